import * as z from 'zod/mini';
import { count, hopping, percentiles, pipeline } from '#runtime/index';

/**
 * An input event of the `error-rate` pipeline (stream `requests`, partition key `service`): one
 * served request; `status` is the HTTP status, `latencyMs` ≥ 0, `ts` an ISO-8601 date-time with
 * zone or epoch ms.
 */
export const Request = z.looseObject({
  service: z.string().check(z.minLength(1)),
  status: z.int().check(z.gte(100), z.lte(599)),
  latencyMs: z.number().check(z.nonnegative()),
  ts: z.union([z.iso.datetime({ offset: true }), z.number()]),
});

/** An `error-rate` input event. */
export type Request = z.infer<typeof Request>;

/** An alert is raised for a final window with at least this error rate … */
export const ALERT_ERROR_RATE = 0.05;
/** … and at least this many requests. */
export const ALERT_MIN_REQUESTS = 20;

/**
 * `error-rate` — monitoring: per service and hopping window of 5 minutes every minute on `ts`
 * (allowed lateness 30 s), `{ requests, errors (status ≥ 500), errorRate = errors / requests,
 * p50LatencyMs, p99LatencyMs }` (latencies from a DDSketch, within 1 %). Final results go to
 * `service-health`; each final window with `errorRate ≥ 0.05` and `requests ≥ 20` also raises one
 * alert on `alerts`: `{ id, pipeline, output, key, window, service, errorRate, requests, errors,
 * p99LatencyMs, threshold, emittedAt }`, `id` stable per (service, window).
 */
export const errorRate = pipeline('error-rate')
  .from('requests', { schema: Request })
  .keyBy((event) => event.service)
  .window(hopping('5m', '1m'), { eventTime: (event) => event.ts, maxOutOfOrderness: '30s' })
  .aggregate({
    requests: count(),
    errors: count((event) => event.status >= 500),
    latency: percentiles((event) => event.latencyMs, [0.5, 0.99]),
  })
  .select((values) => ({
    requests: values.requests,
    errors: values.errors,
    // An emitted window absorbed at least one request; the guard only keeps the projection total.
    errorRate: values.requests === 0 ? 0 : values.errors / values.requests,
    p50LatencyMs: values.latency.p50 ?? null,
    p99LatencyMs: values.latency.p99 ?? null,
  }))
  .alert('alerts', {
    when: (result) =>
      result.values.requests >= ALERT_MIN_REQUESTS && result.values.errorRate >= ALERT_ERROR_RATE,
    map: (result) => ({
      service: result.key,
      errorRate: result.values.errorRate,
      requests: result.values.requests,
      errors: result.values.errors,
      p99LatencyMs: result.values.p99LatencyMs,
      threshold: { errorRate: ALERT_ERROR_RATE, minRequests: ALERT_MIN_REQUESTS },
    }),
  })
  .emit('final')
  .to('service-health');
