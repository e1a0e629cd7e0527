import { estimateItemSize, type RawItem } from './attributes';
import { ItemTooLargeError } from './errors';

/** Throws `ItemTooLargeError` (with `details`) when `item` would exceed `maxItemBytes`. */
export function assertItemSize(
  item: RawItem,
  maxItemBytes: number,
  details: ConstructorParameters<typeof ItemTooLargeError>[0],
): void {
  const size = estimateItemSize(item);
  if (size > maxItemBytes) throw new ItemTooLargeError(details, size, maxItemBytes);
}
