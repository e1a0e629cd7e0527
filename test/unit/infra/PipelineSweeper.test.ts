import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { PipelineSweeper } from '#infra/PipelineSweeper';
import { StateTable } from '#infra/StateTable';

const SWEEPER_ENTRY = path.join(__dirname, '../../../functions/handlers/sweeper.ts');
const READ_UPDATE = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];
const PUT_DELETE = ['dynamodb:PutItem', 'dynamodb:DeleteItem'];

/** A sweeper over its own state table, in a stack that skips bundling. */
function sweeperStack(): { stack: Stack; state: StateTable; sweeper: PipelineSweeper } {
  const stack = new Stack(new App({ context: { [cxapi.BUNDLING_STACKS]: [] } }), 'test');
  const state = new StateTable(stack, 'State');
  const sweeper = new PipelineSweeper(stack, 'Sweeper', {
    entry: SWEEPER_ENTRY,
    stateTable: state.table,
  });
  return { stack, state, sweeper };
}

/** The table and gsi1 ARNs, as the synthesized template writes them. */
const STATE_RESOURCES = [
  { 'Fn::GetAtt': [Match.stringLikeRegexp('^StateTable'), 'Arn'] },
  {
    'Fn::Join': [
      '',
      [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^StateTable'), 'Arn'] }, '/index/gsi1'],
    ],
  },
];

describe('PipelineSweeper', () => {
  it('reaches the partitions of every pipeline it sweeps, and puts or deletes only in session ones', () => {
    // GIVEN
    const { stack, state, sweeper } = sweeperStack();
    const stream = (id: string) => new kinesis.Stream(stack, id);

    // WHEN: a tumbling and a session pipeline register
    sweeper.addPipeline('counts', 'tumbling', state.table, { out: stream('CountsOut') });
    sweeper.addPipeline('visits', 'session', state.table, { sessions: stream('VisitsOut') });

    // THEN: one statement over the union of their partitions, one for the session writes
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^SweeperRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: READ_UPDATE,
            Resource: STATE_RESOURCES,
            Condition: {
              'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['counts#*', 'visits#*'] },
            },
          },
          {
            Effect: 'Allow',
            Action: PUT_DELETE,
            Resource: STATE_RESOURCES,
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['visits#*'] } },
          },
        ]),
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: { Action: unknown }[] } } })
          .Properties.PolicyDocument.Statement,
    );
    const dynamodb = statements.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(dynamodb).toHaveLength(2);
  });

  it('reaches no state before a pipeline registers', () => {
    // GIVEN / WHEN
    const { stack } = sweeperStack();

    // THEN
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    expect(JSON.stringify(policies)).not.toContain('dynamodb:');
  });

  it('fails when a pipeline name is not [a-z0-9-], as a wildcard would widen its partitions', () => {
    // GIVEN
    const { stack, state, sweeper } = sweeperStack();
    const out = { out: new kinesis.Stream(stack, 'Out') };

    // WHEN / THEN
    for (const name of ['page*', 'page?', 'a#K', '']) {
      expect(() => sweeper.addPipeline(name, 'tumbling', state.table, out)).toThrow(
        `pipeline name must be 1..64 characters of [a-z0-9-] starting with a letter or digit, got ${JSON.stringify(name)}`,
      );
    }
  });
});
