/**
 * `rkvs fault-proxy`: starts in front of a TCP echo server, is driven through its control endpoint
 * and its standard input, stops on SIGINT with exit 0; usage errors exit 2 naming the flag.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTimeout } from '../../src/util/abort.js';

const RKVS = fileURLToPath(new URL('../../bin/rkvs.js', import.meta.url));

let echo: Server;
let echoPort = 0;
const sockets = new Set<Socket>();
beforeAll(async () => {
  echo = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => echo.close(() => r()));
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RKVS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Lines the child prints, as they come. */
function lineReader(child: ChildProcessWithoutNullStreams): () => Promise<string> {
  let buf = '';
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      wake?.();
    }
  });
  return async () => {
    while (lines.length === 0) await new Promise<void>((r) => (wake = r));
    return lines.shift() as string;
  };
}

function echoThrough(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection({ host: '127.0.0.1', port });
    let got = '';
    c.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        c.destroy();
        resolve(got);
      }
    });
    c.on('error', reject);
    c.write(text);
  });
}

describe('rkvs fault-proxy', () => {
  it('forwards, changes faults through the control endpoint and stdin, and stops on SIGINT', async () => {
    const child = spawn(process.execPath, [RKVS, 'fault-proxy', '--target', `127.0.0.1:${echoPort}`, '--fault', 'delay=10ms', '--json'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const lines = lineReader(child);
    // every step bounded: a step that hangs fails naming itself (and what the child printed, below)
    const step = <T,>(name: string, p: Promise<T>, ms = 15_000): Promise<T> => withTimeout(p, ms, `step "${name}"`);
    const next = (what: string) => step(`read the line ${what}`, lines());
    try {
      const info = JSON.parse(await next('that describes the proxy')) as { listen: string; target: string; control: string; fault: string };
      expect(info.target).toBe(`127.0.0.1:${echoPort}`);
      expect(info.fault).toBe('delay=10ms');
      const port = Number(info.listen.split(':')[1]);
      expect(await step('echo through the delaying proxy', echoThrough(port, 'through the proxy'))).toBe('through the proxy');

      const res = await step('PUT refuse on the control endpoint', fetch(`${info.control}/fault`, { method: 'PUT', body: 'refuse' }));
      expect(res.status).toBe(200);
      await expect(step('connect to the refusing proxy', echoThrough(port, 'x'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });

      child.stdin.write('pass\n');
      expect(await next('fault: pass')).toBe('fault: pass');
      expect(await step('echo through the passing proxy', echoThrough(port, 'back'))).toBe('back');
      child.stdin.write('nonsense\n');
      expect(await next('naming the unknown fault')).toMatch(/rkvs: fault: unknown fault "nonsense"/);
      child.stdin.write('status\n');
      expect(JSON.parse(await next('of the status'))).toMatchObject({ fault: 'pass', accepted: 2 });

      child.kill('SIGINT');
      expect(await step('exit on SIGINT', exited)).toBe(0);
    } catch (e) {
      if (stderr && e instanceof Error) e.message += `; the proxy's stderr: ${JSON.stringify(stderr)}`;
      throw e;
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr).toBe('');
  });

  it('usage errors exit 2 and name the flag', async () => {
    const noTarget = await run(['fault-proxy']);
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(/--target: is required/);
    const badFault = await run(['fault-proxy', '--target', `127.0.0.1:${echoPort}`, '--fault', 'delay=soon']);
    expect(badFault.code).toBe(2);
    expect(badFault.stderr).toMatch(/--fault\.delay: "soon" is not a duration/);
    const badTarget = await run(['fault-proxy', '--target', 'nowhere']);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toMatch(/--target: "nowhere" is not host:port/);
    const badPort = await run(['fault-proxy', '--target', `127.0.0.1:${echoPort}`, '--listen', '99999']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/--listen: expected a port number/);
  });
});
