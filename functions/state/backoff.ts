/**
 * Waits a random (full-jitter) delay before retrying attempt `attempt` of a conflicting write:
 * up to 5 ms · 2^attempt, at most 200 ms.
 */
export async function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(200, 5 * 2 ** attempt);
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}
