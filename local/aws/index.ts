export { lambdaSdkEnvironment } from './lambdaSdkEnvironment';
export { localClients } from './localClients';
export type { LocalClients } from './types';
