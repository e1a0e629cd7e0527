import { LOCAL_PARTITION, LOCAL_URL_SUFFIX, NAME_PROPERTIES } from './constants';
import { IntrinsicResolutionError } from './errors';
import { type ResourceIdentity, resourceIdentity } from './resourceIdentity';
import type { CfnResource, LocalAccount, StackArtifact } from './types';

/** Marker for `AWS::NoValue`: the property or list element is removed. */
const NO_VALUE = Symbol('AWS::NoValue');

/** Looks up a value exported by any stack of the assembly (`Fn::ImportValue`). */
export type ImportValueLookup = (exportName: string) => string | undefined;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Resolves one stack's CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`,
 * `Fn::Select`, `Fn::Split`, `Fn::If` and conditions, `Fn::FindInMap`, `Fn::GetAZs`, `Fn::Base64`,
 * `Fn::ImportValue`) and pseudo parameters into local names and ARNs.
 *
 * Physical names are the resource's explicit name property if set, else the deterministic
 * `${stackName}-${logicalId}`, so a restart finds the same resources.
 *
 * @example
 * ```ts
 * const resolver = new TemplateResolver(stack, { region: 'us-east-1', accountId: '000000000000' });
 * resolver.resolve({ 'Fn::GetAtt': ['Numbers', 'Arn'] }); // 'arn:aws:kinesis:us-east-1:000000000000:stream/…'
 * ```
 */
export class TemplateResolver {
  private readonly names = new Map<string, string>();
  private readonly resolving = new Set<string>();
  private readonly conditions = new Map<string, boolean>();

  public constructor(
    private readonly stack: StackArtifact,
    private readonly account: LocalAccount,
    private readonly importValue: ImportValueLookup = () => undefined,
  ) {}

  /** The stack this resolver works on. */
  public get stackName(): string {
    return this.stack.stackName;
  }

  /** Resources of the template, by logical id. */
  public get resources(): Readonly<Record<string, CfnResource>> {
    return this.stack.template.Resources ?? {};
  }

  /** Whether a resource exists in this deployment (its `Condition`, if any, is true). */
  public isActive(logicalId: string): boolean {
    const condition = this.resource(logicalId).Condition;
    return condition === undefined || this.condition(condition);
  }

  /** Local physical name of a resource. */
  public physicalName(logicalId: string): string {
    const known = this.names.get(logicalId);
    if (known !== undefined) return known;
    if (this.resolving.has(logicalId)) {
      throw new IntrinsicResolutionError('circular reference', this.stackName, { Ref: logicalId });
    }
    this.resolving.add(logicalId);
    try {
      const resource = this.resource(logicalId);
      const nameProperty = NAME_PROPERTIES[resource.Type];
      const explicit = nameProperty === undefined ? undefined : resource.Properties?.[nameProperty];
      let name =
        explicit === undefined
          ? `${this.stackName}-${logicalId}`
          : this.resolveString(explicit, `${logicalId}.${nameProperty}`);
      if (resource.Type === 'AWS::S3::Bucket' && explicit === undefined) name = name.toLowerCase();
      if (
        resource.Type === 'AWS::SQS::Queue' &&
        explicit === undefined &&
        resource.Properties?.FifoQueue === true
      ) {
        name = `${name}.fifo`;
      }
      this.names.set(logicalId, name);
      return name;
    } finally {
      this.resolving.delete(logicalId);
    }
  }

  /** `Ref`, ARN and attributes of a resource. */
  public identity(logicalId: string): ResourceIdentity {
    const resource = this.resource(logicalId);
    return resourceIdentity(
      resource.Type,
      this.physicalName(logicalId),
      this.account,
      this.stackName,
      logicalId,
    );
  }

  /** Evaluates a named condition of the template. */
  public condition(name: string): boolean {
    const known = this.conditions.get(name);
    if (known !== undefined) return known;
    const expression = this.stack.template.Conditions?.[name];
    if (expression === undefined) {
      throw new IntrinsicResolutionError('unknown condition', this.stackName, { Condition: name });
    }
    const value = this.evaluateCondition(expression);
    this.conditions.set(name, value);
    return value;
  }

  /** Resolves every intrinsic in a value (deeply); `AWS::NoValue` removes the property. */
  public resolve(value: unknown): unknown {
    const resolved = this.resolveValue(value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Resolves a value that must end up a string (numbers and booleans are stringified). */
  public resolveString(value: unknown, what: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new IntrinsicResolutionError(
      `${what} does not resolve to a string`,
      this.stackName,
      value,
    );
  }

  private resource(logicalId: string): CfnResource {
    const resource = this.resources[logicalId];
    if (resource === undefined) {
      throw new IntrinsicResolutionError('unknown resource', this.stackName, { Ref: logicalId });
    }
    return resource;
  }

  private resolveValue(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.resolveValue(item)).filter((item) => item !== NO_VALUE);
    }
    if (!isPlainObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [key] = keys as [string];
      if (key === 'Ref' || key.startsWith('Fn::')) return this.intrinsic(key, value[key], value);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = this.resolveValue(item);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private fail(message: string, expression: unknown): never {
    throw new IntrinsicResolutionError(message, this.stackName, expression);
  }

  private intrinsic(name: string, argument: unknown, expression: unknown): unknown {
    switch (name) {
      case 'Ref':
        if (typeof argument !== 'string') this.fail('Ref takes a name', expression);
        return this.ref(argument);
      case 'Fn::GetAtt': {
        const [logicalId, ...path] = Array.isArray(argument)
          ? (this.resolveValue(argument) as unknown[]).map(String)
          : String(argument).split('.');
        if (logicalId === undefined || path.length === 0)
          this.fail('malformed Fn::GetAtt', expression);
        return this.getAtt(logicalId, path.join('.'));
      }
      case 'Fn::Join': {
        const [delimiter, list] = this.args(argument, 2, expression);
        const items = this.resolveValue(list);
        if (typeof delimiter !== 'string' || !Array.isArray(items)) {
          this.fail('Fn::Join takes [delimiter, list]', expression);
        }
        return items.map((item) => this.stringOf(item, expression)).join(delimiter);
      }
      case 'Fn::Sub':
        return this.sub(argument, expression);
      case 'Fn::Select': {
        const [index, list] = this.args(argument, 2, expression);
        const items = this.resolveValue(list);
        const position = Number(this.resolveValue(index));
        if (!Array.isArray(items) || !Number.isInteger(position) || position >= items.length) {
          this.fail('Fn::Select index out of range', expression);
        }
        return items[position];
      }
      case 'Fn::Split': {
        const [delimiter, source] = this.args(argument, 2, expression);
        if (typeof delimiter !== 'string')
          this.fail('Fn::Split takes a string delimiter', expression);
        return this.stringOf(this.resolveValue(source), expression).split(delimiter);
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = this.args(argument, 3, expression);
        if (typeof condition !== 'string') this.fail('Fn::If takes a condition name', expression);
        return this.resolveValue(this.condition(condition) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Fn::Not':
        return this.evaluateCondition(expression);
      case 'Fn::FindInMap': {
        const [map, top, second] = (this.args(argument, 3, expression) as unknown[]).map((part) =>
          this.stringOf(this.resolveValue(part), expression),
        ) as [string, string, string];
        const found = this.stack.template.Mappings?.[map]?.[top]?.[second];
        if (found === undefined) this.fail('Fn::FindInMap finds nothing', expression);
        return this.resolveValue(found);
      }
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.account.region}${zone}`);
      case 'Fn::Base64':
        return Buffer.from(this.stringOf(this.resolveValue(argument), expression)).toString(
          'base64',
        );
      case 'Fn::ImportValue': {
        const exportName = this.stringOf(this.resolveValue(argument), expression);
        const imported = this.importValue(exportName);
        if (imported === undefined) this.fail(`no stack exports ${exportName}`, expression);
        return imported;
      }
      default:
        return this.fail(`intrinsic ${name} is not supported locally`, expression);
    }
  }

  private args(argument: unknown, count: number, expression: unknown): unknown[] {
    if (!Array.isArray(argument) || argument.length !== count) {
      this.fail(`expected ${count} arguments`, expression);
    }
    return argument;
  }

  private stringOf(value: unknown, expression: unknown): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return this.fail('expected a string', expression);
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.account.region;
      case 'AWS::AccountId':
        return this.account.accountId;
      case 'AWS::Partition':
        return this.account.partition ?? LOCAL_PARTITION;
      case 'AWS::URLSuffix':
        return this.account.urlSuffix ?? LOCAL_URL_SUFFIX;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:${this.account.partition ?? LOCAL_PARTITION}:cloudformation:${this.account.region}:${this.account.accountId}:stack/${this.stackName}/00000000-0000-4000-8000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    const parameter = this.stack.template.Parameters?.[name];
    if (parameter !== undefined) {
      if (parameter.Default === undefined) {
        this.fail('parameter has no Default to use locally', { Ref: name });
      }
      return parameter.Default;
    }
    return this.identity(name).ref;
  }

  private getAtt(logicalId: string, attribute: string): string {
    const identity = this.identity(logicalId);
    if (attribute === 'Arn') return identity.arn;
    const value = identity.attributes[attribute];
    if (value === undefined) {
      this.fail(`attribute ${attribute} is not modelled locally`, {
        'Fn::GetAtt': [logicalId, attribute],
      });
    }
    return value;
  }

  private sub(argument: unknown, expression: unknown): string {
    const [template, variables] = Array.isArray(argument)
      ? (argument as [unknown, unknown])
      : [argument, {}];
    if (typeof template !== 'string' || !isPlainObject(variables)) {
      this.fail('Fn::Sub takes a string or [string, variables]', expression);
    }
    return template.replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (Object.hasOwn(variables, name)) {
        return this.stringOf(this.resolveValue(variables[name]), expression);
      }
      const dot = name.indexOf('.');
      if (dot > 0) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
      return this.stringOf(this.ref(name), expression);
    });
  }

  private evaluateCondition(expression: unknown): boolean {
    if (typeof expression === 'boolean') return expression;
    if (!isPlainObject(expression)) this.fail('malformed condition', expression);
    const [key] = Object.keys(expression);
    const argument = key === undefined ? undefined : expression[key];
    switch (key) {
      case 'Condition':
        return this.condition(String(argument));
      case 'Fn::Equals': {
        const [left, right] = this.args(argument, 2, expression).map((side) =>
          JSON.stringify(this.resolveValue(side)),
        );
        return left === right;
      }
      case 'Fn::And':
        return (argument as unknown[]).every((part) => this.evaluateCondition(part));
      case 'Fn::Or':
        return (argument as unknown[]).some((part) => this.evaluateCondition(part));
      case 'Fn::Not': {
        const [inner] = this.args(argument, 1, expression);
        return !this.evaluateCondition(inner);
      }
      default:
        return this.fail('unsupported condition function', expression);
    }
  }
}
