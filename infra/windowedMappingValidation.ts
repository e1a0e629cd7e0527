import { CfnResource, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IValidation } from 'constructs';

/**
 * A validation (`node.addValidation`) that fails synthesis when any event source mapping of the app
 * invokes the handler of a windowed pipeline with a `ParallelizationFactor` other than 1. It reads
 * each `AWS::Lambda::EventSourceMapping` as it will be written to the template (raw overrides
 * included), tokens resolved: mappings made by the pipeline, added with `fn.addEventSource`, or raw
 * `CfnEventSourceMapping`s, in any stack. A factor that is not a plain number after resolution (a
 * `CfnParameter`, an import) is rejected too, because the deployed value cannot be known.
 *
 * @example
 * pipeline.node.addValidation(windowedMappingValidation('page-views', pipeline.handler));
 */
export function windowedMappingValidation(
  pipelineName: string,
  handler: lambda.Function,
): IValidation {
  return {
    validate: (): string[] => {
      const handlerStack = Stack.of(handler);
      const handlerId = String(
        handlerStack.resolve((handler.node.defaultChild as CfnResource).logicalId),
      );
      const errors: string[] = [];
      for (const construct of handler.node.root.node.findAll()) {
        if (
          !CfnResource.isCfnResource(construct) ||
          construct.cfnResourceType !== lambda.CfnEventSourceMapping.CFN_RESOURCE_TYPE_NAME
        ) {
          continue;
        }
        // FunctionName is resolved in the handler's stack, so a mapping in another stack still shows
        // `Ref`/`GetAtt` of the handler rather than an import; the factor in the mapping's own stack,
        // as it is deployed.
        const target = renderedProperties(construct, handlerStack).FunctionName;
        if (!references(target, handlerId)) {
          continue;
        }
        const factor = renderedProperties(construct, Stack.of(construct)).ParallelizationFactor;
        if (factor === undefined || factor === 1) {
          continue;
        }
        errors.push(
          `event source mapping ${construct.node.path} invokes the handler of windowed pipeline ${pipelineName} ` +
            `with ParallelizationFactor ${JSON.stringify(factor)}; it must be absent or 1 (a plain number at synth time): ` +
            'window state is fenced per shard, and concurrent batches of one shard would lose records. ' +
            'Give the input stream more shards for more throughput instead.',
        );
      }
      return errors;
    },
  };
}

/**
 * The resource's `Properties` as synthesis writes them, overrides included, resolved in `stack`.
 * `_toCloudFormation` is what the stack itself calls to render a resource; raw overrides
 * (`addPropertyOverride`) are visible nowhere else.
 */
function renderedProperties(resource: CfnResource, stack: Stack): Record<string, unknown> {
  const rendered = stack.resolve(resource._toCloudFormation()) as {
    Resources?: Record<string, { Properties?: Record<string, unknown> }>;
  };
  const [only] = Object.values(rendered.Resources ?? {});
  return only?.Properties ?? {};
}

/** Whether a resolved expression contains `Ref` or `Fn::GetAtt` of the resource `logicalId`. */
function references(expression: unknown, logicalId: string): boolean {
  if (Array.isArray(expression)) {
    return expression.some((item) => references(item, logicalId));
  }
  if (typeof expression !== 'object' || expression === null) {
    return false;
  }
  const record = expression as Record<string, unknown>;
  if (record.Ref === logicalId) {
    return true;
  }
  const getAtt = record['Fn::GetAtt'];
  if (
    (Array.isArray(getAtt) && getAtt[0] === logicalId) ||
    (typeof getAtt === 'string' && getAtt.startsWith(`${logicalId}.`))
  ) {
    return true;
  }
  return Object.values(record).some((value) => references(value, logicalId));
}
