/** Process control for emulator children: liveness, stopping with a grace period, and the exit hook (no SDK imports, so the CLI loads it cheaply). */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/** The program names of `EmulatorServer` that need more than the default grace period to stop. */
const SLOW_STOPPERS = new Set(['swift-s3api']);

/**
 * How long a runner gets between SIGTERM and SIGKILL. Swift's runner stops five processes through
 * scripts/swift-s3api.sh (which itself waits up to 10 s before SIGKILL): killing the runner
 * earlier would orphan them.
 */
export function stopGraceMs(server: string): number {
  return SLOW_STOPPERS.has(server) ? 30_000 : 5_000;
}

/** True when a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends SIGTERM to `pid`, then SIGKILL after `graceMs` (default 5 s), and waits until it is gone. */
export async function killPid(pid: number, graceMs = 5_000): Promise<void> {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Stops a child we spawned: SIGTERM, SIGKILL after `graceMs`; resolves when it exited. */
export function killChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Children still running, stopped when this process exits. */
const live = new Map<number, { child: ChildProcess; dataDir: string; server: string }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { child, dataDir, server } of live.values()) {
      if (SLOW_STOPPERS.has(server)) {
        // Its runner must live on to stop what it started (it also sees our end on its stdin),
        // and removes the data directory itself.
        try {
          child.kill('SIGTERM');
        } catch {
          // already gone
        }
        continue;
      }
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

/** Records a non-detached child, stopped by the exit hook if this process ends first. */
export function track(child: ChildProcess, dataDir: string, server: string): void {
  if (child.pid === undefined) return;
  live.set(child.pid, { child, dataDir, server });
  installExitHook();
}

export function untrack(pid: number): void {
  live.delete(pid);
}
