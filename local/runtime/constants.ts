/** Type of the source resource a locally run event source mapping must read. */
export const SUPPORTED_EVENT_SOURCE_TYPE = 'AWS::Kinesis::Stream';

/** Resource types whose schedules the local runtime runs. */
export const SCHEDULE_RESOURCE_TYPES = {
  EVENTS_RULE: 'AWS::Events::Rule',
  SCHEDULER_SCHEDULE: 'AWS::Scheduler::Schedule',
} as const;

/**
 * Where the local runtime keeps private copies of the functions' code, relative to the project
 * directory (the current directory of `shardflow local up`): one folder per run, removed when it stops.
 */
export const CODE_COPIES_DIRECTORY = '.shardflow/code';

/** Prefix of a run's folder in {@link CODE_COPIES_DIRECTORY}, followed by the process id. */
export const RUN_FOLDER_PREFIX = 'run-';

/** Mode of a copied file that had an execute bit (else it gets PRIVATE_FILE_MODE, 0600). */
export const PRIVATE_EXECUTABLE_MODE = 0o700;

/** uid of root, whose files are trusted like the current user's (as OpenSSH's StrictModes does). */
export const ROOT_UID = 0;

/** Write permission of others: a file with it may have been written by anyone. */
export const OTHERS_WRITE_BIT = 0o002;

/** Bytes read and written at a time when function code is copied. */
export const COPY_CHUNK_BYTES = 1024 * 1024;
