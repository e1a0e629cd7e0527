import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { errorRate } from '#pipelines/error-rate';

/** Lambda entry point of the `error-rate` pipeline (`requests` → `service-health`, `alerts`). */
export const handler = createWindowedHandler(errorRate);
