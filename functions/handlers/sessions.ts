import { createWindowedHandler } from '#handlers/factories/createWindowedHandler';
import { userSessions } from '#pipelines/sessions';

/** Lambda entry point of the `sessions` pipeline (`clicks` → `user-sessions`). */
export const handler = createWindowedHandler(userSessions);
