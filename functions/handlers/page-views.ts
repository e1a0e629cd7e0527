import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { pageViews } from '#pipelines/page-views';

/** Lambda entry point of the `page-views` pipeline (`clicks` → `page-view-counts`). */
export const handler = createWindowedHandler(pageViews);
