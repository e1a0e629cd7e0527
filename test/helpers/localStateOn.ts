import type { LocalState } from '#local/cli/localState';

/**
 * A `.shardflow/local.json` as `local up` records it, with every endpoint on `port` of 127.0.0.1 and
 * one stream named `stream` (logical name) — for tests of commands that must not trust it.
 */
export function localStateOn(
  port: number,
  fields: Pick<LocalState, 'pid' | 'identity'>,
  stream: { readonly name: string; readonly physicalName: string; readonly logicalId: string },
): LocalState {
  return {
    version: 1,
    enginePids: [],
    startedAt: new Date(0).toISOString(),
    cdkOut: '/nonexistent',
    ...fields,
    endpoints: {
      kinesis: `http://127.0.0.1:${port}`,
      kinesisTls: `https://127.0.0.1:${port}`,
      dynamodb: `http://127.0.0.1:${port}`,
      kinesisCaFile: '/nonexistent',
      region: 'us-east-1',
      accountId: '000000000000',
      credentials: { accessKeyId: 'SFLOCALTEST', secretAccessKey: 'secret' },
    },
    names: {
      [stream.name]: {
        type: 'AWS::Kinesis::Stream',
        physicalName: stream.physicalName,
        arn: `arn:aws:kinesis:us-east-1:000000000000:stream/${stream.physicalName}`,
        stack: 'shardflow-dev',
        logicalId: stream.logicalId,
      },
    },
  };
}
