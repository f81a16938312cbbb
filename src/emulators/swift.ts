/** Swift s3api presets: where scripts/swift-s3api.sh is, and a clear failure when Swift is not installed. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { findOnPath } from './kinds.js';

/** The Debian packages scripts/swift-s3api.sh installs. */
export const SWIFT_PACKAGES = ['swift', 'swift-proxy', 'swift-object', 'swift-container', 'swift-account', 'python3-swift', 'memcached'] as const;
const SWIFT_COMMANDS = ['swift-proxy-server', 'swift-account-server', 'swift-container-server', 'swift-object-server', 'memcached'];

/** Absolute path of scripts/swift-s3api.sh (the package's, whether this runs from src/ or dist/). */
export function swiftS3Script(): string {
  const p = join(PACKAGE_ROOT, 'scripts', 'swift-s3api.sh');
  if (!existsSync(p)) throw new Error(`${p} not found: the robust-kvs package is incomplete; reinstall it`);
  return p;
}

/** The command that installs Swift, for error messages. */
export function swiftInstallHint(): string {
  return `sudo scripts/swift-s3api.sh install (= apt-get install -y --no-install-recommends ${SWIFT_PACKAGES.join(' ')}; .ci/run does it)`;
}

/** Throws a clear error naming the install command when Swift's programs are not on PATH. */
export function assertSwiftInstalled(): void {
  const missing = SWIFT_COMMANDS.filter((c) => !findOnPath(c));
  if (missing.length === 0) return;
  throw new Error(`OpenStack Swift is not installed (${missing.join(', ')} not on PATH): install it with ${swiftInstallHint()}`);
}

/**
 * Stops a Swift instance that a runner started under `dataDir` and left behind (the runner was
 * killed before it could stop it). Synchronous; a no-op when there is none.
 */
export function stopSwiftLeftovers(dataDir: string): void {
  const dir = join(dataDir, 'swift');
  if (!existsSync(join(dir, '.rkvs-swift-s3api'))) return;
  spawnSync('bash', [swiftS3Script(), 'stop', dir], { stdio: 'ignore', timeout: 30_000 });
}
