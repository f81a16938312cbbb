// `node --import ./test/support/trace-imports.mjs ...`: appends the URL of every module an ESM import
// resolves to the file named by RKVS_TRACE_IMPORTS, one per line (see test/cli/startup.test.ts).
import { register } from 'node:module';

if (process.env.RKVS_TRACE_IMPORTS) register('./trace-imports-hooks.mjs', import.meta.url, { data: { file: process.env.RKVS_TRACE_IMPORTS } });
