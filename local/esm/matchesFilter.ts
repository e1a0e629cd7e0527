/** A parsed filter pattern of a mapping's FilterCriteria (`{"data": {...}}`). */
export type FilterPattern = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NUMERIC_OPERATORS: Record<string, (left: number, right: number) => boolean> = {
  '=': (left, right) => left === right,
  '<': (left, right) => left < right,
  '<=': (left, right) => left <= right,
  '>': (left, right) => left > right,
  '>=': (left, right) => left >= right,
};

function matchesNumeric(value: unknown, conditions: readonly unknown[]): boolean {
  if (typeof value !== 'number') return false;
  for (let i = 0; i + 1 < conditions.length; i += 2) {
    const operator = NUMERIC_OPERATORS[String(conditions[i])];
    if (operator === undefined || !operator(value, Number(conditions[i + 1]))) return false;
  }
  return true;
}

/** Whether one present (non-array) value matches one matcher of a rule's list. */
function matchesValue(value: unknown, matcher: unknown): boolean {
  if (!isObject(matcher)) return value === matcher;
  if ('prefix' in matcher) {
    const prefix = matcher.prefix;
    if (isObject(prefix) && typeof prefix['equals-ignore-case'] === 'string') {
      return (
        typeof value === 'string' &&
        value.toLowerCase().startsWith(prefix['equals-ignore-case'].toLowerCase())
      );
    }
    return typeof value === 'string' && value.startsWith(String(prefix));
  }
  if ('suffix' in matcher)
    return typeof value === 'string' && value.endsWith(String(matcher.suffix));
  if ('equals-ignore-case' in matcher) {
    return (
      typeof value === 'string' &&
      value.toLowerCase() === String(matcher['equals-ignore-case']).toLowerCase()
    );
  }
  if ('numeric' in matcher && Array.isArray(matcher.numeric)) {
    return matchesNumeric(value, matcher.numeric);
  }
  if ('anything-but' in matcher) {
    const excluded = matcher['anything-but'];
    if (Array.isArray(excluded)) return !excluded.some((item) => matchesValue(value, item));
    return !matchesValue(value, excluded);
  }
  return false;
}

/** Whether a field (possibly absent, possibly an array) satisfies a rule's list of matchers. */
function matchesRule(present: boolean, value: unknown, rule: readonly unknown[]): boolean {
  return rule.some((matcher) => {
    if (isObject(matcher) && 'exists' in matcher) {
      return matcher.exists === true ? present : !present;
    }
    if (!present) return false;
    // A rule on an array field matches if any element matches.
    if (Array.isArray(value)) return value.some((item) => matchesValue(item, matcher));
    return matchesValue(value, matcher);
  });
}

/** Whether an object satisfies a pattern: every key's rule (AND), `$or` alternatives. */
function matchesObject(subject: unknown, pattern: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or' && Array.isArray(rule)) {
      return rule.some(
        (alternative) => isObject(alternative) && matchesObject(subject, alternative),
      );
    }
    const present = isObject(subject) && key in subject;
    const value = present ? (subject as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) return matchesRule(present, value, rule);
    if (isObject(rule)) return matchesObject(value, rule);
    return false;
  });
}

/**
 * Whether a Kinesis record passes a mapping's FilterCriteria, as Lambda's event filtering
 * decides it: Kinesis mappings filter on the `data` key only, whose payload must be JSON;
 * a record passes if it matches any one of the filters (exact values, `prefix`, `suffix`,
 * `equals-ignore-case`, `numeric` ranges, `exists`, `anything-but`, `$or`).
 * With no filters every record passes.
 */
export function matchesFilter(data: Uint8Array, filters: readonly FilterPattern[]): boolean {
  if (filters.length === 0) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    // Not JSON: a pattern on `data` cannot match it.
    return false;
  }
  return filters.some((filter) => matchesObject({ data: parsed }, filter));
}
