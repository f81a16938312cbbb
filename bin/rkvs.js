#!/usr/bin/env node
// The rkvs command: runs the TypeScript sources through tsx, so `npm ci` is the only install step.
import { register } from 'tsx/esm/api';

// The AWS SDK prints a multi-line notice about its future Node.js requirement on every run; robust-kvs
// supports Node >= 20 and says so in its README. Set the variable to "false" to see the notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv);
