/** Failure injection settings (`shardflow local up --chaos RATE --seed N`). */
export interface ChaosOptions {
  /** Probability (0..1) of each injection point failing. */
  readonly rate: number;
  /**
   * Seed of the pseudo-random sequence, so a run can be reproduced.
   * @default 1
   */
  readonly seed?: number;
}

/** A reproducible source of decisions: true with probability `rate`. */
export interface ChaosDice {
  roll(): boolean;
}
