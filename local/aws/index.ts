export { LOCAL_CREDENTIALS } from './constants';
export { lambdaSdkEnvironment } from './lambdaSdkEnvironment';
export { localClients } from './localClients';
export type { LocalClients } from './types';
