import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '#state/constants';
import { grantAccess, STATE_KEY_ACTIONS } from './grants';
import { TABLE_DEFAULTS } from './stream-pipeline-defaults';
import { validatePipelineName } from './validation';

/** Properties of a {@link StateTable}. */
export interface StateTableProps {
  /**
   * Customer managed key for encryption at rest.
   * @default - the AWS managed key `aws/dynamodb`
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Continuous backups: restore the window state to any second of the last 35 days.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * What happens to the table (the window state) when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The DynamoDB actions the window store (tumbling and hopping windows) calls, nothing else. */
export const STATE_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
] as const;

/**
 * What the session store needs besides {@link STATE_TABLE_ACTIONS}: it merges sessions with
 * `TransactWriteItems`, whose Put and Delete items IAM authorizes as `PutItem` and `DeleteItem`.
 */
export const SESSION_STATE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:DeleteItem'] as const;

/**
 * What the tumbling and hopping handlers need besides {@link STATE_TABLE_ACTIONS}: lane packs are
 * `Put` items of `TransactWriteItems`, which IAM authorizes as `PutItem`. The sweeper only closes
 * windows (updates, reads) and does without.
 */
export const PACK_STATE_ACTIONS = ['dynamodb:PutItem'] as const;

/**
 * The actions whose requests always name the partition keys they reach, so `dynamodb:LeadingKeys` bounds
 * them: everything the stores call, nothing else.
 */
const KEYED_STATE_ACTIONS: ReadonlySet<string> = new Set([
  ...STATE_TABLE_ACTIONS,
  ...SESSION_STATE_ACTIONS,
  ...PACK_STATE_ACTIONS,
]);

/**
 * The `dynamodb:LeadingKeys` pattern of a pipeline's state partitions: `<pipeline>#*`. It matches every
 * partition key the stores write for the pipeline (`<pipeline>#K#<key>`, `<pipeline>#WM`, lane packs'
 * `<pipeline>#P#<slice>`, `<pipeline>#LN`, `<pipeline>#SL`) and, for a Query on `gsi1`, where
 * LeadingKeys is the index partition key, `<pipeline>#due#<bucket>`, `<pipeline>#closed#<bucket>`,
 * `<pipeline>#SLdue` and `<pipeline>#SLclosed`. It matches no other pipeline's: names contain no `#`, so `page-views#*`
 * never matches `page-views-2#…`, and no `*` or `?` (IAM wildcards); the name is checked here.
 *
 * @example
 * pipelinePartitions('page-views'); // 'page-views#*'
 */
export function pipelinePartitions(pipelineName: string): string {
  validatePipelineName(pipelineName);
  return `${pipelineName}#*`;
}

/** The state actions a pipeline with this window kind needs. */
export function stateActionsFor(windowKind: string): string[] {
  return windowKind === 'session'
    ? [...STATE_TABLE_ACTIONS, ...SESSION_STATE_ACTIONS]
    : [...STATE_TABLE_ACTIONS, ...PACK_STATE_ACTIONS];
}

/**
 * The state table of windowed pipelines, exactly as `functions/state` `TABLE_KEYS` lays it out: string keys
 * `pk`/`sk`, the sparse sweeper index `gsi1` (INCLUDE projection), TTL on `expiresAt`; on-demand billing,
 * point-in-time recovery and KMS encryption at rest. Keys are pipeline-prefixed, so one table serves every
 * pipeline of an app (and the sweeper, which reads one table).
 *
 * Encryption uses the AWS managed key unless a customer key is given: it is KMS-backed and audited in
 * CloudTrail like a customer key, costs no key-month, and needs no key policy or `kms:` grants for the
 * handlers; bring a key when compliance requires key rotation control or cross-account access.
 *
 * @example
 * const state = new StateTable(stack, 'State');
 * state.grantReadWrite(handler, ['page-views']);
 */
export class StateTable extends Construct {
  /** The table. */
  public readonly table: dynamodb.Table;

  public constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    const index = TABLE_KEYS.dueIndex;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_KEYS.timeToLiveAttribute,
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? TABLE_DEFAULTS.pointInTimeRecovery,
      },
      ...(props.encryptionKey
        ? {
            encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryptionKey: props.encryptionKey,
          }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...index.nonKeyAttributes],
    });
  }

  /**
   * Grants exactly `actions` on the partitions of `pipelines` in the table and its sweeper index (no
   * `dynamodb:*`, no other table, no other pipeline's partitions), plus {@link STATE_KEY_ACTIONS} on a
   * customer key, through DynamoDB only.
   * @default actions - {@link STATE_TABLE_ACTIONS}
   */
  public grantReadWrite(
    grantee: iam.IGrantable,
    pipelines: readonly string[],
    actions: readonly string[] = STATE_TABLE_ACTIONS,
  ): iam.Grant {
    return grantStateAccess(this.table, grantee, pipelines.map(pipelinePartitions), actions);
  }
}

/**
 * {@link StateTable.grantReadWrite} for any table with the state layout (one passed in as `ITable`): exactly
 * `actions` on the table and `gsi1`, limited to the partitions whose keys match `partitions` (each a
 * {@link pipelinePartitions} pattern, or a lazily produced list of them), and with a customer key
 * {@link STATE_KEY_ACTIONS} on that key through DynamoDB only.
 *
 * The condition is `ForAllValues:StringLike` on `dynamodb:LeadingKeys`: every partition key a request
 * names must match one of the patterns. A GetItem, UpdateItem, PutItem or DeleteItem names one key, a
 * BatchGetItem all the keys of the batch (one key of another pipeline refuses the whole batch), a Query its
 * partition key (on `gsi1`, the index partition key); the Put, Update and Delete items of a
 * TransactWriteItems are each authorized as PutItem, UpdateItem and DeleteItem on their own key. A request
 * naming no partition key at all (a Scan) would pass `ForAllValues` vacuously, so this fails on any action
 * but the six the stores call ({@link STATE_TABLE_ACTIONS}, {@link SESSION_STATE_ACTIONS}).
 */
export function grantStateAccess(
  table: dynamodb.ITable,
  grantee: iam.IGrantable,
  partitions: readonly string[],
  actions: readonly string[] = STATE_TABLE_ACTIONS,
): iam.Grant {
  if (!Token.isUnresolved(partitions) && partitions.length === 0) {
    throw new Error('a state table grant needs the partitions of at least one pipeline, got none');
  }
  const unkeyed = actions.filter((action) => !KEYED_STATE_ACTIONS.has(action));
  if (unkeyed.length > 0) {
    throw new Error(
      `state table grants may hold only actions whose requests name their partition keys (${[...KEYED_STATE_ACTIONS].join(', ')}), got ${unkeyed.join(', ')}`,
    );
  }
  return grantAccess(
    grantee,
    {
      resourceArns: [table.tableArn, `${table.tableArn}/index/${TABLE_KEYS.dueIndex.indexName}`],
      env: table.env,
      encryptionKey: table.encryptionKey,
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': partitions } },
    },
    { service: 'dynamodb', actions, keyActions: STATE_KEY_ACTIONS },
  );
}
