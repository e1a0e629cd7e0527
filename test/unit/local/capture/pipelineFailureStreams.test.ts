import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { createLogicalStream } from '#infra/logicalStream';
import { StreamPipeline } from '#infra/StreamPipeline';
import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';
import { planDeployment } from '#local/assembly/planDeployment';
import { pipelineFailureStreams } from '#local/capture/pipelineFailureStreams';
import { enrich } from '#pipelines/enrich';
import { pageViews } from '#pipelines/page-views';

const HANDLERS = join(__dirname, '../../../../functions/handlers');
const ENDPOINTS = { region: 'us-east-1', accountId: '000000000000' };

/** Synthesizes `build`'s stack and deploys it on paper: what `local up` would record in local.json. */
function deployed(build: (stack: Stack) => void) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const app = new App({ outdir });
  build(new Stack(app, 'App'));
  app.synth();
  const { deployment } = planDeployment(loadCloudAssembly(outdir), { endpoints: ENDPOINTS });
  return { cdkOut: outdir, names: deployment.names };
}

describe('pipelineFailureStreams', () => {
  it('finds each pipeline’s own failure stream in the synthesized template (SHARDFLOW_FAILURE_STREAM)', () => {
    // GIVEN two StreamPipelines with the failure streams they create
    const app = deployed((stack) => {
      new StreamPipeline(stack, 'Enrich', {
        definition: enrich,
        entry: join(HANDLERS, 'enrich.ts'),
      });
      new StreamPipeline(stack, 'PageViews', {
        definition: pageViews,
        entry: join(HANDLERS, 'page-views.ts'),
      });
    });

    // WHEN
    const streams = pipelineFailureStreams(app);

    // THEN each failure stream belongs to exactly its pipeline, by its local physical name
    expect([...streams.values()]).toEqual([
      {
        stream: 'enrich-failures',
        physicalName: app.names['enrich-failures']?.physicalName,
        pipelines: ['enrich'],
      },
      {
        stream: 'page-views-failures',
        physicalName: app.names['page-views-failures']?.physicalName,
        pipelines: ['page-views'],
      },
    ]);
    expect([...streams.keys()]).toEqual([...streams.values()].map((s) => s.physicalName));
  });

  it('gives a failure stream shared by two pipelines to both, and no stream to a pipeline reading it', () => {
    // GIVEN one failureStream passed to two pipelines
    const app = deployed((stack) => {
      const shared = createLogicalStream(stack, 'shared-failures', { shardCount: 1 });
      for (const [id, definition, entry] of [
        ['Enrich', enrich, 'enrich.ts'],
        ['PageViews', pageViews, 'page-views.ts'],
      ] as const) {
        new StreamPipeline(stack, id, {
          definition,
          entry: join(HANDLERS, entry),
          failureStream: shared,
        });
      }
    });

    // WHEN
    const streams = pipelineFailureStreams(app);

    // THEN
    expect([...streams.values()]).toEqual([
      {
        stream: 'shared-failures',
        physicalName: app.names['shared-failures']?.physicalName,
        pipelines: ['enrich', 'page-views'],
      },
    ]);
  });
});
