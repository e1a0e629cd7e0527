import type { KinesisStreamRecord } from 'aws-lambda';
import type {
  AnyWindowedPipelineDefinition,
  BatchPlan,
  RecordFailure,
  WindowResult,
} from '#runtime/index';
import type { PipelineStore, SessionPipelineStore } from '../types';
import type { EmitContext, EmitReport } from './sendResults';

/** One batch, planned, as a window kind's state step sees it. */
export interface BatchState {
  readonly definition: AnyWindowedPipelineDefinition;
  readonly store: PipelineStore;
  readonly sessionStore: SessionPipelineStore | undefined;
  readonly records: readonly KinesisStreamRecord[];
  readonly plan: BatchPlan;
  /** The committed watermark read before the batch. */
  readonly committed: number | undefined;
  /** Sends records the state refused to the failure stream. */
  readonly report: (failures: readonly RecordFailure[]) => Promise<void>;
}

/** What a batch's state step did. */
export interface AppliedBatch {
  /** Records the state refused (LATE, EXPIRED, STATE_TOO_LARGE), one per record and reason. */
  readonly refused: readonly RecordFailure[];
  /** Counters for the batch's log line. */
  readonly log: Readonly<Record<string, unknown>>;
  /** `final: false` results of the windows the batch touched still open under `watermark`. */
  previews(watermark: number | undefined, now: number): Promise<WindowResult[]>;
}

/**
 * Everything that differs between sliced windows (tumbling, hopping) and session windows, chosen
 * once per pipeline (`windowKindOf`), as Flink chooses a merging window assigner once.
 */
export interface WindowKind {
  /** Granularity the committed watermark is rounded down to (slice length, or a minute). */
  readonly commitGranularityMs: number;
  /** Writes a planned batch to the state; refusals are reported before they can be lost. */
  apply(batch: BatchState): Promise<AppliedBatch>;
  /** Closes and emits what `watermark` made due (the watermark is committed to `committed`). */
  closeDue(
    context: EmitContext,
    watermark: number,
    committed: number | undefined,
    now: number,
  ): Promise<EmitReport>;
  /** Re-emits one page of windows closed at or before `closedBefore` but never marked emitted. */
  repairPage(
    context: EmitContext,
    closedBefore: number,
    now: number,
  ): Promise<{ readonly report: EmitReport; readonly full: boolean }>;
}
