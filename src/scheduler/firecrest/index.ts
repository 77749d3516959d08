export { type FirecrestAuth, firecrestCredentialsFromEnv } from './auth.js';
export { parseRetryAfter } from './client.js';
export { splitJobName, taggedJobName, toJobInfo } from './jobs.js';
export { textToBytes } from './ranges.js';
export { createFirecrestScheduler, FirecrestScheduler, type FirecrestSchedulerOptions } from './scheduler.js';
