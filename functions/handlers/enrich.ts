import { createStatelessHandler } from '#handlers/factories/createStatelessHandler';
import { enrich } from '#pipelines/enrich';

/** Lambda entry point of the `enrich` pipeline (`numbers` → `numbers-doubled`). */
export const handler = createStatelessHandler(enrich);
