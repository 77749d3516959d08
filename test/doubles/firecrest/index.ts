export { type FirecrestDouble, type FirecrestDoubleOptions, startFirecrestDouble } from './server.js';
