import { App } from 'aws-cdk-lib';
import { ShardflowStack } from './ShardflowStack';

const app = new App();
const stage: string = app.node.tryGetContext('stage') ?? 'dev';
const shardCounts: Record<string, number> = app.node.tryGetContext('shardCounts') ?? {};

new ShardflowStack(app, `shardflow-${stage}`, {
  shardCounts,
  description: `shardflow pipelines (${stage})`,
});

app.synth();
