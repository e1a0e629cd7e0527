/** Engines this process has started and not yet stopped. */
export interface StoppableEngines {
  /** Stops the engines and waits for their exit. */
  stop(): Promise<void>;
  /** Sends SIGTERM to the engines without waiting (the only thing an 'exit' listener can do). */
  terminateNow(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const active = new Set<StoppableEngines>();

/**
 * Stops `engines` when this process ends: on 'exit' (SIGTERM, the guardian follows with SIGKILL),
 * and on SIGINT, SIGTERM and SIGHUP (stop, then re-raise the signal so the process ends with the
 * usual status, unless someone else listened to it when it came). Returns the function that unregisters them.
 */
export function stopOnParentExit(engines: StoppableEngines): () => void {
  if (active.size === 0) addListeners();
  active.add(engines);
  return () => {
    active.delete(engines);
    if (active.size === 0) removeListeners();
  };
}

function onExit(): void {
  for (const engines of active) engines.terminateNow();
}

function onSignal(signal: NodeJS.Signals): void {
  removeListeners();
  // Decided now, not once the engines are down: a listener that was there when the signal came
  // owns the exit, even if it has removed itself by the time the engines have stopped.
  const handledElsewhere = process.listenerCount(signal) > 0;
  const stopping = [...active].map((engines) => engines.stop());
  active.clear();
  void Promise.allSettled(stopping).then(() => {
    if (!handledElsewhere) process.kill(process.pid, signal);
  });
}

function addListeners(): void {
  process.on('exit', onExit);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function removeListeners(): void {
  process.off('exit', onExit);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}
