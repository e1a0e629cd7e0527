import { createSweeperHandler } from '#handlers/factories/createSweeperHandler';
import { errorRate } from '#pipelines/error-rate';
import { pageViews } from '#pipelines/page-views';
import { userSessions } from '#pipelines/sessions';
import { trending } from '#pipelines/trending';

/** Lambda entry point of the sweeper (1-minute schedule): every windowed pipeline of the app. */
export const handler = createSweeperHandler([pageViews, userSessions, errorRate, trending]);
