import { build } from 'hdr-histogram-js';
import { localClients } from '#local/aws/index';
import { readStream } from '#local/io/readStream';
import { type LocalSession, startLocalSession } from '#local/session/startLocalSession';
import { KinesisSink } from '#sinks/index';

/** Options of the quick-start demo (`npm start`). */
export interface DemoOptions {
  readonly events: number;
  /** Seconds to wait for every result before failing. */
  readonly timeout: number;
  /** @default process.cwd() */
  readonly app?: string;
  /** Print the handlers' logs on stderr. @default false */
  readonly verbose?: boolean;
}

const DEVICES = 10;

/**
 * The quick-start demo: brings the embedded AWS up, deploys the app, sends `events` generated events to the
 * `numbers` stream, waits until every doubled result arrived on `numbers-doubled`, prints a summary with
 * put-to-output latency, and tears everything down.
 *
 * @returns 0 when every event came back exactly once, 1 otherwise
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const started = Date.now();
  const say = (line: string): void => {
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
  };
  say('starting kinesis-mock and DynamoDB Local, synthesizing the CDK app…');
  let session: LocalSession | undefined;
  const warnings: string[] = [];
  const interrupted = (): void => {
    say('interrupted; cleaning up');
    void session?.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  try {
    session = await startLocalSession({
      app: options.app ?? process.cwd(),
      onLog: options.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
      onWarn: (line) => warnings.push(line),
    });
    if (warnings.length > 0) {
      say(
        options.verbose
          ? warnings.join('\n')
          : `${warnings.length} note(s) on what runs differently locally (--verbose shows them)`,
      );
    }
    const names = session.state.names;
    const input = names.numbers?.physicalName;
    const output = names['numbers-doubled']?.physicalName;
    if (!input || !output) {
      throw new Error('the app has no `numbers` and `numbers-doubled` streams');
    }
    say(`deployed locally: ${Object.keys(names).join(', ')}`);
    const { kinesis } = localClients(session.state.endpoints);

    const received = new Map<string, number>();
    const latency = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000 });
    let duplicates = 0;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeout * 1000);
    const reading = readStream({
      client: kinesis,
      streamName: output,
      fromStart: true,
      signal: controller.signal,
      onRecord: (record) => {
        const event = JSON.parse(Buffer.from(record.data).toString('utf8')) as {
          id: string;
          sentAt: number;
        };
        if (received.has(event.id)) {
          duplicates += 1;
          return;
        }
        received.set(event.id, record.arrivedAt - event.sentAt);
        latency.recordValue(Math.max(1, record.arrivedAt - event.sentAt));
        if (received.size === options.events) {
          controller.abort();
        }
      },
    });

    say(`sending ${options.events} events from ${DEVICES} devices to \`numbers\`…`);
    const sink = new KinesisSink({ streamName: input, client: kinesis });
    for (let offset = 0; offset < options.events; offset += 500) {
      const chunk = [];
      for (let i = offset; i < Math.min(options.events, offset + 500); i += 1) {
        const event = {
          id: `event-${i}`,
          device: `device-${i % DEVICES}`,
          value: i,
          sentAt: Date.now(),
        };
        // One partition key per event spreads them over every shard and lets one PutRecords call carry
        // 500 of them while keeping per-key order (see KinesisSink's `ordered`).
        chunk.push({ data: JSON.stringify(event), partitionKey: event.id });
      }
      await sink.send(chunk);
    }
    say('sent; waiting for the doubled results on `numbers-doubled`…');
    await reading;
    clearTimeout(timer);

    const ok = received.size === options.events && duplicates === 0;
    const summary = [
      '',
      'shardflow demo — enrich pipeline on the embedded AWS',
      `  sent       ${options.events}`,
      `  received   ${received.size}`,
      `  duplicates ${duplicates}`,
      `  latency    p50 ${latency.getValueAtPercentile(50)} ms, p99 ${latency.getValueAtPercentile(99)} ms (put → output)`,
      `  took       ${((Date.now() - started) / 1000).toFixed(1)} s`,
      '',
    ];
    process.stdout.write(summary.join('\n'));
    if (!ok) {
      process.stderr.write(
        `shardflow demo: only ${received.size} of ${options.events} results arrived within ${options.timeout} s\n`,
      );
    }
    return ok ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', interrupted);
    say('tearing down…');
    await session?.stop();
  }
}
