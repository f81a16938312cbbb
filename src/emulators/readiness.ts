/** Readiness: waits for an emulator child to print `RKVS-READY {...}`, on its pipe or in its log file. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { EmulatorInfo } from './describe.js';

export interface ReadyWait {
  signal?: AbortSignal;
  /** Receives each line the emulator prints. */
  log?: (line: string) => void;
  timeoutMs: number;
}

/** The info of a `RKVS-READY {...}` line, undefined for any other line. */
export function parseReady(line: string): EmulatorInfo | undefined {
  const m = /^RKVS-READY (\{.*\})\s*$/.exec(line);
  if (!m) return undefined;
  const info = JSON.parse(m[1] as string) as EmulatorInfo;
  if (!Number.isInteger(info.port) || info.port <= 0) throw new Error(`emulator reported a bad port: ${line}`);
  return info;
}

/** Reads the child's stdout and stderr until it reports ready; rejects on exit, abort or timeout with its last lines. */
export function waitReadyOnPipe(child: ChildProcess, server: string, opts: ReadyWait): Promise<EmulatorInfo> {
  const { timeoutMs } = opts;
  return new Promise<EmulatorInfo>((resolve, reject) => {
    const tail: string[] = [];
    let settled = false;
    const finish = (err: Error | undefined, info?: EmulatorInfo) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(info as EmulatorInfo);
    };
    const onLine = (line: string) => {
      if (!line) return;
      let info: EmulatorInfo | undefined;
      try {
        info = parseReady(line);
      } catch (e) {
        return finish(e as Error);
      }
      if (info) return finish(undefined, info);
      tail.push(line);
      if (tail.length > 20) tail.shift();
      opts.log?.(`[${server}] ${line}`);
    };
    const onExit = (code: number | null, sig: string | null) =>
      finish(new Error(`the ${server} emulator exited before it was ready (code ${code}, signal ${sig}):\n${tail.join('\n')}`));
    const onAbort = () => finish(new Error(`starting the ${server} emulator was aborted`));
    const timer = setTimeout(
      () => finish(new Error(`the ${server} emulator was not ready after ${timeoutMs} ms:\n${tail.join('\n')}`)),
      timeoutMs,
    );
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('exit', onExit);
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i).trimEnd());
          buf = buf.slice(i + 1);
        }
      });
    }
    // Do not keep the caller's event loop alive for the emulator; the exit hook stops it.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  });
}

/** Polls a detached child's log file until it reports ready; rejects on exit, abort or timeout. */
export async function waitReadyInFile(child: ChildProcess, logFile: string, server: string, opts: ReadyWait): Promise<EmulatorInfo> {
  const deadline = Date.now() + opts.timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    opts.signal?.throwIfAborted();
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      // not written yet
    }
    for (const line of text.split('\n')) {
      const info = parseReady(line);
      if (info) return info;
    }
    if (exited) throw new Error(`the ${server} emulator exited before it was ready; see ${logFile}:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the ${server} emulator was not ready after ${opts.timeoutMs} ms; see ${logFile}`);
}
