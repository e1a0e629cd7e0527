import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { deployAssembly } from '#local/assembly/deployAssembly';
import { WindowedParallelizationError } from '#local/assembly/errors';
import type { CloudAssembly } from '#local/assembly/types';

const ENDPOINTS = { region: 'us-east-1', accountId: '000000000000' };

/** A stream and a table, and a shardflow windowed handler reading the stream with `factor` lanes. */
function windowedAssembly(factor: number): CloudAssembly {
  const resources = {
    Input: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 2 } },
    State: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      },
    },
    Handler: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Code: { ZipFile: 'exports.handler = async () => ({});' },
        Handler: 'index.handler',
        Environment: {
          Variables: { SHARDFLOW_PIPELINE: 'user-sessions', SHARDFLOW_WINDOW_KIND: 'session' },
        },
      },
    },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'Handler' },
        EventSourceArn: { 'Fn::GetAtt': ['Input', 'Arn'] },
        StartingPosition: 'TRIM_HORIZON',
        ParallelizationFactor: factor,
      },
    },
  };
  return {
    directory: '/nowhere',
    stacks: [
      {
        artifactId: 'S',
        stackName: 'S',
        templateFile: '/nowhere/S.json',
        template: { Resources: resources as never },
      },
    ],
    assetsByObjectKey: new Map(),
  };
}

describe('deployAssembly', () => {
  it('fails before creating any stream or table when a windowed handler is mapped with ParallelizationFactor 3', async () => {
    // GIVEN: engines that record every call
    const kinesisSend = jest.fn();
    const dynamodbSend = jest.fn();
    const clients = {
      kinesis: { send: kinesisSend } as unknown as KinesisClient,
      dynamodb: { send: dynamodbSend } as unknown as DynamoDBClient,
    };

    // WHEN
    const deploying = deployAssembly(windowedAssembly(3), {
      endpoints: ENDPOINTS,
      clients,
      warn: () => undefined,
      inlineCodeDirectory: mkdtempSync(join(tmpdir(), 'inline-')),
    });

    // THEN
    await expect(deploying).rejects.toThrow(WindowedParallelizationError);
    await expect(deploying).rejects.toMatchObject({
      stack: 'S',
      logicalId: 'Mapping',
      functionName: 'S-Handler',
      pipeline: 'user-sessions',
      parallelizationFactor: 3,
    });
    expect(kinesisSend).not.toHaveBeenCalled();
    expect(dynamodbSend).not.toHaveBeenCalled();
  });
});
