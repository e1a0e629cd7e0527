import { ChaosInvoker } from '#local/chaos/ChaosInvoker';
import type { FunctionInvoker, InvocationResult } from '#local/lambda/types';

class CountingInvoker implements FunctionInvoker {
  public readonly functionName = 'fn';
  public calls = 0;

  public async invoke(): Promise<InvocationResult> {
    this.calls += 1;
    return { ok: true, requestId: `r${this.calls}`, payload: null, durationMs: 1 };
  }
}

async function run(seed: number, rate: number, times: number) {
  const inner = new CountingInvoker();
  const chaos = new ChaosInvoker(inner, { rate, seed });
  const results: string[] = [];
  for (let i = 0; i < times; i++) {
    const result = await chaos.invoke({});
    results.push(result.ok ? 'ok' : result.error.errorType);
  }
  return { results, inner, chaos };
}

describe('ChaosInvoker', () => {
  it('injects errors before and after the handler, reproducibly from the seed', async () => {
    // WHEN
    const first = await run(42, 0.3, 200);
    const again = await run(42, 0.3, 200);
    const other = await run(43, 0.3, 200);

    // THEN
    expect(first.results).toEqual(again.results);
    expect(first.results).not.toEqual(other.results);
    const before = first.results.filter((r) => r === 'Shardflow.ChaosBeforeHandler').length;
    const after = first.results.filter((r) => r === 'Shardflow.ChaosAfterHandler').length;
    expect(before).toBeGreaterThan(30);
    expect(after).toBeGreaterThan(20);
    // THEN the handler ran for every invocation but those failed before it
    expect(first.inner.calls).toBe(200 - before);
    expect(first.chaos.injected).toEqual({ before, after });
  });

  it('passes every invocation through at rate 0', async () => {
    // WHEN
    const { results } = await run(1, 0, 50);

    // THEN
    expect(results.every((result) => result === 'ok')).toBe(true);
  });
});
