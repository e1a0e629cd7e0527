import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { pageViews } from '#pipelines/page-views';

/** Lambda entry point of the sweeper (1-minute schedule): every windowed pipeline of the app. */
export const handler = createSweeperHandler([pageViews]);
