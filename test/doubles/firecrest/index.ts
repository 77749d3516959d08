export { loadEnvFile } from './cluster-env.js';
export { type FaultMatch, type FaultRequest, type FaultRule, Faults } from './faults.js';
export type { FileSystemRoot } from './files.js';
export {
  type DoubleCounters,
  type FirecrestDouble,
  type FirecrestDoubleOptions,
  type RecordedRequest,
  startFirecrestDouble,
} from './server.js';
