/**
 * `rkvs fault-proxy --target HOST:PORT [--listen PORT] [--fault SPEC] [--control-port PORT] [--json]`:
 * runs a fault proxy on 127.0.0.1 in front of an endpoint until interrupted, driven at run time
 * through its HTTP control endpoint (`curl -X PUT --data blackhole http://127.0.0.1:C/fault`) or
 * by typing fault specs on standard input.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { Fault } from '../net/fault-proxy.js';

interface FaultProxyFlags {
  target?: string;
  listen: string;
  fault: string;
  controlPort: string;
  json?: boolean;
}

function portFlag(flag: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new ConfigError(flag, `expected a port number from 0 (any free port) to 65535, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function registerFaultProxy(program: Command): void {
  program
    .command('fault-proxy')
    .description('run a TCP proxy on 127.0.0.1 that injects network faults (delay, throttle, blackhole, reset, drop, refuse) in front of an endpoint')
    .option('--target <host:port>', 'endpoint to forward to: host:port or a URL, e.g. the emulator endpoint printed by "rkvs emulators start" (required)')
    .option('--listen <port>', 'port to listen on (0: any free port)', '0')
    .option('--fault <spec>', 'fault at start: pass, blackhole, reset, refuse, delay=200ms[,jitter=50ms][,seed=N], throttle=64KiB/s, drop=4096 (options: direction=to-client|to-server|both)', 'pass')
    .option('--control-port <port>', 'port of the HTTP control endpoint (0: any free port)', '0')
    .option('--json', 'print the addresses as one JSON line instead of text')
    .addHelpText(
      'after',
      `
Change the fault while it runs:
  curl -X PUT --data 'delay=500ms,jitter=100ms' http://127.0.0.1:<control-port>/fault
  curl http://127.0.0.1:<control-port>/          # status and counters
or type a fault spec (or "status") on standard input. Ctrl-C stops the proxy.`,
    )
    .action(async (flags: FaultProxyFlags) => {
      const { formatFault, parseFault, parseTarget, serveFaultControl, startFaultProxy } = await import('../net/fault-proxy.js');
      if (!flags.target) throw new ConfigError('--target', 'is required: the endpoint to forward to, e.g. --target 127.0.0.1:9000');
      const target = parseTarget(flags.target, '--target');
      const port = portFlag('--listen', flags.listen);
      const controlPort = portFlag('--control-port', flags.controlPort);
      const fault = parseFault(flags.fault, '--fault');
      const proxy = await startFaultProxy({ target, port, fault });
      let control;
      try {
        control = await serveFaultControl(proxy, { port: controlPort });
      } catch (e) {
        await proxy.close();
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new ConfigError('--control-port', `port ${controlPort} is in use; pick another or use 0 for any free port`);
        }
        throw e;
      }
      const out = (s: string) => process.stdout.write(`${s}\n`);
      if (flags.json) {
        out(JSON.stringify({ listen: proxy.address, target: `${target.host}:${target.port}`, control: control.url, fault: formatFault(proxy.fault) }));
      } else {
        out(`fault proxy ${proxy.address} -> ${target.host}:${target.port}, fault: ${formatFault(proxy.fault)}`);
        out(`control: ${control.url}  (curl -X PUT --data blackhole ${control.url}/fault; curl ${control.url}/)`);
        out('type a fault spec (or "status") and Enter to change it; Ctrl-C to stop');
      }

      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          lines?.close();
          proxy.close().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        // Standard input, when there is one: one fault spec per line. Its end does not stop the proxy.
        const lines = process.stdin.readable ? createInterface({ input: process.stdin }) : undefined;
        lines?.on('line', (line) => {
          const text = line.trim();
          if (!text) return;
          if (text === 'status') {
            out(JSON.stringify({ fault: formatFault(proxy.fault), ...proxy.stats() }));
            return;
          }
          if (text === 'quit' || text === 'exit') return stop();
          let next: Fault;
          try {
            next = parseFault(text, 'fault');
          } catch (e) {
            out(`rkvs: ${(e as Error).message}`);
            return;
          }
          proxy.set(next).then(
            () => out(`fault: ${formatFault(proxy.fault)}`),
            (e: unknown) => out(`rkvs: ${(e as Error).message}`),
          );
        });
        lines?.on('close', () => process.stdin.destroy());
      });
    });
}
