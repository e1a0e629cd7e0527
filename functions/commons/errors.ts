/**
 * Base class of every error shardflow throws on purpose.
 *
 * Each module derives its own errors from it; each sets `name`, passes `{ cause }` when it wraps
 * another error, and carries the data a person needs to act (pipeline, key, window, shard, …).
 *
 * @example
 * ```ts
 * class WindowStateConflictError extends ShardflowError {
 *   constructor(message: string, options?: ErrorOptions) {
 *     super(message, options);
 *     this.name = 'WindowStateConflictError';
 *   }
 * }
 * ```
 */
export class ShardflowError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ShardflowError';
  }
}
