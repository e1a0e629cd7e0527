import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEMO_DEFAULTS, runDemo } from './demo/index';
import { printFailures } from './failures';
import { generateCommand } from './generate';
import { localDown, localUp } from './local';
import { redrive } from './redrive';
import { resolveStream } from './resolveStream';
import { openInput, sendLines } from './send';
import { tailStream } from './tail';

/** Exit code for bad arguments, as usage errors conventionally use. */
export const USAGE_EXIT_CODE = 2;

/**
 * File mode creation mask of the commands that run the local runtime: what they, the engines and the
 * function workers (which inherit it) create — records, window state, checkpoints, logs, failure
 * captures — is readable by the current user only (files 0600, directories 0700).
 */
export const LOCAL_RUNTIME_UMASK = 0o077;

/**
 * Runs the shardflow CLI and resolves to the process exit code.
 *
 * @example
 * // npx shardflow send numbers events.jsonl --partition-key id
 * process.exitCode = await main(process.argv);
 */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('shardflow')
    .description(
      'Serverless stream processing on AWS: Kinesis + Lambda + DynamoDB, run locally or deployed.',
    )
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError();

  const local = program
    .command('local')
    .description('the embedded AWS: kinesis-mock and DynamoDB Local');
  local
    .command('up')
    .description('start the engines, deploy the CDK app on them and run its event source mappings')
    .option('--app <dir>', 'a CDK project (with cdk.json) or a synthesized cdk.out', '.')
    .option('--detach', 'run in the background and return once ready')
    .option('--port-base <n>', 'first loopback port to try', positiveInteger)
    .option('--state-dir <dir>', 'keep the engines’ data and checkpoints across restarts')
    .option('--chaos <rate>', 'inject failures at this rate (0..1)', rate)
    .option('--seed <n>', 'seed for --chaos', positiveInteger)
    .option('--verbose', 'print handler logs')
    .action(async (options) => {
      process.umask(LOCAL_RUNTIME_UMASK);
      exitCode = await localUp(options);
    });
  local
    .command('down')
    .description('stop the local runtime started from this directory')
    .action(async () => {
      exitCode = await localDown();
    });

  program
    .command('send')
    .description('send JSON lines to a stream (stdout: the count; stderr: progress)')
    .argument('<stream>', 'logical (numbers) or physical stream name')
    .argument('[file]', 'JSON lines file, or - for stdin', '-')
    .option('--partition-key <field>', 'JSON field used as partition key (default: random)')
    .action(async (stream: string, file: string, options: { partitionKey?: string }) => {
      const target = await resolveStream(stream);
      const count = await sendLines(target, openInput(file), {
        partitionKey: options.partitionKey,
        progress: process.stderr.isTTY,
      });
      process.stdout.write(`${count}\n`);
    });

  program
    .command('tail')
    .description('print a stream’s records as JSON lines')
    .argument('<stream>', 'logical (numbers-doubled) or physical stream name')
    .option('--from-start', 'read from the oldest record instead of only new ones')
    .option('--max <n>', 'stop after n records', positiveInteger)
    .addOption(
      new Option('--idle-timeout <seconds>', 'stop after this long without records').argParser(
        positiveNumber,
      ),
    )
    .action(
      async (
        stream: string,
        options: { fromStart?: boolean; max?: number; idleTimeout?: number },
      ) => {
        await tailStream(await resolveStream(stream), options);
      },
    );

  program
    .command('failures')
    .description('list what reached on-failure destinations locally, with the records themselves')
    .option('--json', 'one JSON failure record per line, in AWS’s shape')
    .action(async (options: { json?: boolean }) => {
      exitCode = await printFailures({ json: options.json });
    });

  program
    .command('redrive')
    .description(
      'send failed records back to their pipeline’s input stream after a fix (original data and partition key)',
    )
    .option('--pipeline <name>', 'only this pipeline’s failed records')
    .option(
      '--reason <reason>',
      'only records rejected for this reason (SCHEMA, TOO_LARGE, LATE, …) or given up on under this condition',
    )
    .option('--captured', 'also the records of batches given up on (on-failure destination)')
    .option('--dry-run', 'count what would be sent, send nothing')
    .action(
      async (options: {
        pipeline?: string;
        reason?: string;
        captured?: boolean;
        dryRun?: boolean;
      }) => {
        exitCode = await redrive(options);
      },
    );

  program
    .command('generate')
    .description('generate realistic events for a pipeline: to its input stream, or stdout')
    .argument('<pipeline>', 'enrich, page-views, error-rate, trending or sessions')
    .option('--rate <n>', 'events per second (average)', positiveNumber, 20)
    .option('--duration <seconds>', 'seconds of event time', positiveNumber, 60)
    .option('--seed <n>', 'random seed (same seed, same events)', positiveInteger, 1)
    .option('--late-fraction <f>', 'share of events later than the allowed lateness', rate, 0)
    .option('--invalid-fraction <f>', 'share of invalid records (not JSON, wrong schema)', rate, 0)
    .option('--start <time>', 'event time of the first event (ISO-8601 or epoch ms)')
    .option('--stdout', 'write JSON lines to stdout instead of sending them')
    .action(async (pipeline: string, options: Parameters<typeof generateCommand>[1]) => {
      const summary = await generateCommand(pipeline, options);
      process.stderr.write(
        `${summary.records} records to ${summary.stream} (${summary.valid} valid, ${summary.late} late, ${summary.invalid} invalid)\n`,
      );
    });

  program
    .command('demo')
    .description(
      'the quick-start demo: every pipeline on the embedded AWS fed by the generator, a live view, a summary',
    )
    .option(
      '--duration <seconds>',
      'seconds of live generation',
      positiveNumber,
      DEMO_DEFAULTS.durationSeconds,
    )
    .option('--forever', 'keep generating until Ctrl-C')
    .option(
      '--rate <n>',
      'events per second per generated input stream',
      positiveNumber,
      DEMO_DEFAULTS.rate,
    )
    .option('--seed <n>', 'generator seed (same seed, same events)', positiveInteger, 1)
    .option(
      '--events <n>',
      'events sent through the enrich pipeline',
      positiveInteger,
      DEMO_DEFAULTS.events,
    )
    .option(
      '--timeout <seconds>',
      'once generation stopped, give up waiting for the enrich results after this long',
      positiveNumber,
      DEMO_DEFAULTS.timeoutSeconds,
    )
    .option('--verbose', 'print the handlers’ logs (progress lines instead of the live view)')
    .action(async (options: Parameters<typeof runDemo>[0]) => {
      process.umask(LOCAL_RUNTIME_UMASK);
      exitCode = await runDemo(options);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    }
    process.stderr.write(`shardflow: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return exitCode;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(`expected a whole number ≥ 1, got '${value}'`);
  }
  return parsed;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(`expected a number > 0, got '${value}'`);
  }
  return parsed;
}

function rate(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new InvalidArgumentError(`expected a rate between 0 and 1, got '${value}'`);
  }
  return parsed;
}
