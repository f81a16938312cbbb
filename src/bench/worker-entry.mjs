// Entry of a `rkvs bench --workers N` worker process: loads the TypeScript sources through tsx,
// like bin/rkvs.js, then runs the worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
