import { TemplateResolver } from '#local/assembly/TemplateResolver';
import type { CloudAssembly, LocalAccount } from '#local/assembly/types';
import { SCHEDULE_RESOURCE_TYPES } from './constants';

/** A scheduled invocation of a template's Lambda function (an EventBridge rule or a Scheduler schedule). */
export interface ScheduledTarget {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** ARN of the rule or schedule (the event's `resources`). */
  readonly arn: string;
  readonly expression: string;
  /** ARN of the target function (maybe qualified). */
  readonly targetArn: string;
  /** The target's `Input`, parsed, if any: the event instead of the scheduled-event payload. */
  readonly input?: unknown;
}

function parseInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

/**
 * Finds the enabled `AWS::Events::Rule` resources with a ScheduleExpression and the enabled
 * `AWS::Scheduler::Schedule` resources of an assembly, with each Lambda target.
 */
export function findSchedules(assembly: CloudAssembly, account: LocalAccount): ScheduledTarget[] {
  const found: ScheduledTarget[] = [];
  for (const stack of assembly.stacks) {
    const resolver = new TemplateResolver(stack, account);
    for (const [logicalId, resource] of Object.entries(resolver.resources)) {
      if (!Object.values(SCHEDULE_RESOURCE_TYPES).includes(resource.Type as never)) continue;
      if (!resolver.isActive(logicalId)) continue;
      const props = (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
      if (props.State === 'DISABLED' || typeof props.ScheduleExpression !== 'string') continue;
      const arn = resolver.identity(logicalId).arn;
      const targets =
        resource.Type === SCHEDULE_RESOURCE_TYPES.EVENTS_RULE
          ? ((props.Targets as Record<string, unknown>[] | undefined) ?? [])
          : [props.Target as Record<string, unknown>];
      for (const target of targets) {
        if (typeof target?.Arn !== 'string' || !target.Arn.includes(':lambda:')) continue;
        found.push({
          stack: stack.stackName,
          logicalId,
          type: resource.Type,
          arn,
          expression: props.ScheduleExpression,
          targetArn: target.Arn,
          ...(target.Input !== undefined ? { input: parseInput(target.Input) } : {}),
        });
      }
    }
  }
  return found;
}
