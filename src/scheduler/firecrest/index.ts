export {
  ClientCredentialsTokens,
  type FirecrestAuth,
  type FirecrestEnvSettings,
  firecrestCredentialsFromEnv,
  missingFirecrestAuthError,
} from './auth.js';
export {
  DEFAULT_TIMEOUTS,
  type FirecrestBackoff,
  FirecrestClient,
  type FirecrestClientOptions,
  type FirecrestRequest,
  type FirecrestResponse,
  type FirecrestTimeouts,
  parseRetryAfter,
} from './client.js';
export { splitJobName, TAG_SEPARATOR, taggedJobName, toJobInfo } from './jobs.js';
export { readRange, textToBytes } from './ranges.js';
export {
  createFirecrestScheduler,
  FirecrestScheduler,
  type FirecrestSchedulerOptions,
  type FirecrestTimeWindow,
} from './scheduler.js';
