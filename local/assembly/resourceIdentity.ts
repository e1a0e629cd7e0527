import { createHash } from 'node:crypto';
import { LOCAL_PARTITION } from './constants';
import type { LocalAccount } from './types';

/** What `Ref` and `Fn::GetAtt` return for one resource. */
export interface ResourceIdentity {
  /** Value of `Ref`. */
  readonly ref: string;
  /** The resource's ARN (`Fn::GetAtt [id, Arn]`). */
  readonly arn: string;
  /** Other `Fn::GetAtt` attributes. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Deterministic UUID (v4 layout) from a seed, so restarts agree on generated ids. */
export function deterministicUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `4${hex.slice(13, 16)}`,
    `${((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}

/**
 * Local identity of a resource: what `Ref` returns and its ARN and attributes, the way
 * CloudFormation reports them for that type, in the local region and account.
 */
export function resourceIdentity(
  type: string,
  physicalName: string,
  account: LocalAccount,
  stackName: string,
  logicalId: string,
): ResourceIdentity {
  const partition = account.partition ?? LOCAL_PARTITION;
  const { region, accountId } = account;
  const arnOf = (service: string, resource: string, regional = true): string =>
    `arn:${partition}:${service}:${regional ? region : ''}:${accountId}:${resource}`;
  switch (type) {
    case 'AWS::Kinesis::Stream':
      return { ref: physicalName, arn: arnOf('kinesis', `stream/${physicalName}`), attributes: {} };
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable': {
      const arn = arnOf('dynamodb', `table/${physicalName}`);
      return {
        ref: physicalName,
        arn,
        attributes: { StreamArn: `${arn}/stream/1970-01-01T00:00:00.000`, TableId: physicalName },
      };
    }
    case 'AWS::Lambda::Function':
      return {
        ref: physicalName,
        arn: arnOf('lambda', `function:${physicalName}`),
        attributes: { 'SnapStartResponse.ApplyOn': 'None' },
      };
    case 'AWS::Lambda::EventSourceMapping': {
      const uuid = deterministicUuid(`${stackName}/${logicalId}`);
      return {
        ref: uuid,
        arn: arnOf('lambda', `event-source-mapping:${uuid}`),
        attributes: { Id: uuid },
      };
    }
    case 'AWS::SQS::Queue': {
      const arn = arnOf('sqs', physicalName);
      const url = `https://sqs.${region}.amazonaws.com/${accountId}/${physicalName}`;
      return { ref: url, arn, attributes: { QueueName: physicalName, QueueUrl: url } };
    }
    case 'AWS::SNS::Topic': {
      const arn = arnOf('sns', physicalName);
      return { ref: arn, arn, attributes: { TopicArn: arn, TopicName: physicalName } };
    }
    case 'AWS::S3::Bucket':
      return {
        ref: physicalName,
        arn: `arn:${partition}:s3:::${physicalName}`,
        attributes: {
          DomainName: `${physicalName}.s3.amazonaws.com`,
          RegionalDomainName: `${physicalName}.s3.${region}.amazonaws.com`,
        },
      };
    case 'AWS::IAM::Role':
      return {
        ref: physicalName,
        arn: arnOf('iam', `role/${physicalName}`, false),
        attributes: { RoleId: deterministicUuid(physicalName) },
      };
    case 'AWS::Logs::LogGroup':
      return {
        ref: physicalName,
        arn: arnOf('logs', `log-group:${physicalName}:*`),
        attributes: {},
      };
    default: {
      const [, service = 'unknown', kind = 'resource'] = type.split('::');
      return {
        ref: physicalName,
        arn: arnOf(service.toLowerCase(), `${kind.toLowerCase()}/${physicalName}`),
        attributes: {},
      };
    }
  }
}
