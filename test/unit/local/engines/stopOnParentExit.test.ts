import { stopOnParentExit } from '#local/engines/stopOnParentExit';

/** Engines whose stop ends when `finish` is called. */
function slowEngines() {
  let finish: () => void = () => undefined;
  const stop = jest.fn(
    () =>
      new Promise<void>((resolve) => {
        finish = resolve;
      }),
  );
  return { engines: { stop, terminateNow: jest.fn() }, finish: () => finish() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('stopOnParentExit', () => {
  let kill: jest.SpyInstance;
  beforeEach(() => {
    kill = jest.spyOn(process, 'kill').mockImplementation(() => true);
  });
  afterEach(() => kill.mockRestore());

  it('re-raises the signal once the engines have stopped when nobody else listens to it', async () => {
    // GIVEN engines registered, no other SIGHUP listener
    const { engines, finish } = slowEngines();
    const unregister = stopOnParentExit(engines);
    // WHEN SIGHUP comes
    process.emit('SIGHUP', 'SIGHUP');
    await settle();
    // THEN the engines are stopping, the process is not killed before they are down
    expect(engines.stop).toHaveBeenCalledTimes(1);
    expect(kill).not.toHaveBeenCalled();
    finish();
    await settle();
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGHUP');
    unregister();
  });

  it('leaves the exit to a listener that was there when the signal came, even one that has left since', async () => {
    // GIVEN a caller listening to SIGHUP (as the demo does) and engines registered after it
    const caller = jest.fn();
    process.on('SIGHUP', caller);
    const { engines, finish } = slowEngines();
    const unregister = stopOnParentExit(engines);
    // WHEN SIGHUP comes, and the caller cleans up and removes its listener before the engines are down
    process.emit('SIGHUP', 'SIGHUP');
    process.off('SIGHUP', caller);
    finish();
    await settle();
    // THEN the process is not killed behind the caller's back
    expect(caller).toHaveBeenCalledTimes(1);
    expect(engines.stop).toHaveBeenCalledTimes(1);
    expect(kill).not.toHaveBeenCalled();
    unregister();
  });
});
