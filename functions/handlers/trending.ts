import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { trending } from '#pipelines/trending';

/** Lambda entry point of the `trending` pipeline (`product-views` → `trending-products`). */
export const handler = createWindowedHandler(trending);
