export { checkJava } from './checkJava';
export { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './constants';
export { createEngineCredentials } from './createEngineCredentials';
export {
  EngineError,
  EngineExitedError,
  EnginePortInUseError,
  EngineStartTimeoutError,
  JavaCompilerMissingError,
  JavaMissingError,
  JavaTooOldError,
  NoFreePortError,
} from './errors';
export { findFreePorts } from './freePort';
export { startEngines } from './startEngines';
export { ensureTlsCertificate, type TlsCertificateFiles } from './tlsCertificate';
export type {
  EngineCredentials,
  EngineEndpoints,
  EngineFailure,
  EngineName,
  RunningEngines,
  StartEnginesOptions,
} from './types';
