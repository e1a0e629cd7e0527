import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { grantStateAccess, pipelinePartitions, StateTable } from '#infra/StateTable';

/** A state table and a role to grant to. */
function tableAndRole(): { stack: Stack; state: StateTable; role: iam.Role } {
  const stack = new Stack(new App(), 'test');
  const state = new StateTable(stack, 'State');
  const role = new iam.Role(stack, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  return { stack, state, role };
}

describe('StateTable', () => {
  it('grants the state actions on the partitions of the named pipelines only', () => {
    // GIVEN
    const { stack, state, role } = tableAndRole();
    // WHEN
    state.grantReadWrite(role, ['page-views', 'sessions']);
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: [
              'dynamodb:GetItem',
              'dynamodb:BatchGetItem',
              'dynamodb:Query',
              'dynamodb:UpdateItem',
            ],
            Resource: [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^StateTable'), 'Arn'] },
              {
                'Fn::Join': [
                  '',
                  [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^StateTable'), 'Arn'] }, '/index/gsi1'],
                ],
              },
            ],
            Condition: {
              'ForAllValues:StringLike': {
                'dynamodb:LeadingKeys': ['page-views#*', 'sessions#*'],
              },
            },
          },
        ],
      },
    });
  });

  it('fails on an action whose requests need not name a partition key', () => {
    // GIVEN
    const { state, role } = tableAndRole();
    // WHEN / THEN: ForAllValues would let a Scan through whatever the patterns
    expect(() =>
      grantStateAccess(state.table, role, ['page-views#*'], ['dynamodb:Query', 'dynamodb:Scan']),
    ).toThrow(
      'state table grants may hold only actions whose requests name their partition keys (dynamodb:GetItem, dynamodb:BatchGetItem, dynamodb:Query, dynamodb:UpdateItem, dynamodb:PutItem, dynamodb:DeleteItem), got dynamodb:Scan',
    );
  });

  it('fails on a grant to no partition', () => {
    const { state, role } = tableAndRole();
    expect(() => state.grantReadWrite(role, [])).toThrow(
      'a state table grant needs the partitions of at least one pipeline, got none',
    );
  });

  it('fails on a pipeline name that would be a wider pattern', () => {
    expect(pipelinePartitions('page-views')).toBe('page-views#*');
    for (const name of ['*', 'page*', 'page?', 'page#K', 'Page']) {
      expect(() => pipelinePartitions(name)).toThrow(
        `pipeline name must be 1..64 characters of [a-z0-9-] starting with a letter or digit, got ${JSON.stringify(name)}`,
      );
    }
  });
});
