// Child-process entry point that runs ONE emulator on 127.0.0.1 with an ephemeral port.
//
//   node runner.mjs <kind> <dataDir> [--detached]
//
// kind: fauxqs | minio | swift | azurite | gcs. Plain JavaScript on purpose: it starts with `node`
// alone, outside the harness's event loop, and needs no TypeScript loader. `swift` runs
// $RKVS_SWIFT_S3_SCRIPT (scripts/swift-s3api.sh) start/stop with <dataDir>/swift as its directory.
//
// Protocol: when the server listens, prints one line `RKVS-READY {"port":N,...}` on stdout.
// Lifetime: unless --detached, exits when its parent dies (stdin closes, or the parent pid is gone).
// On SIGTERM/SIGINT/stdin close it stops the server and exits; the parent removes the data dir.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const [kind, dataDir, ...rest] = process.argv.slice(2);
const detached = rest.includes('--detached');
const HOST = '127.0.0.1';

if (!kind || !dataDir) {
  process.stderr.write('usage: runner.mjs <fauxqs|minio|swift|azurite|gcs> <dataDir> [--detached]\n');
  process.exit(2);
}
mkdirSync(dataDir, { recursive: true });
// When our parent dies, our stdout/stderr pipes break: a write must not crash the shutdown (EPIPE).
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

let stopServer = async () => {};
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // Swift is five processes stopped by a script that waits up to 10 s before SIGKILL.
  const force = setTimeout(() => process.exit(code), kind === 'swift' ? 25_000 : 3000);
  force.unref();
  try {
    await stopServer();
  } catch {
    // exiting anyway
  }
  try {
    rmSync(dataDir, { recursive: true, force: true });
  } catch {
    // the parent removes it too
  }
  process.exit(code);
}

process.once('SIGTERM', () => void shutdown(0));
process.once('SIGINT', () => void shutdown(0));
process.once('SIGHUP', () => void shutdown(0));
if (!detached) {
  // The parent holds our stdin open; when it dies (even by SIGKILL) the pipe closes.
  process.stdin.on('end', () => void shutdown(0));
  process.stdin.on('close', () => void shutdown(0));
  process.stdin.on('error', () => void shutdown(0));
  process.stdin.resume();
  const parent = process.ppid;
  const watch = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      void shutdown(0);
    }
  }, 1000);
  watch.unref();
}

function ready(info) {
  process.stdout.write(`RKVS-READY ${JSON.stringify(info)}\n`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startFauxqs() {
  // Its CLI and startFauxqs() listen on 0.0.0.0 whatever `host` says (that option is the virtual-host
  // domain), so build the app and listen on loopback ourselves.
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false });
  const address = await app.listen({ port: 0, host: HOST });
  stopServer = () => app.close();
  ready({ port: Number(new URL(address).port) });
}

async function startMinio() {
  const port = await freePort();
  const consolePort = await freePort();
  const user = process.env.MINIO_ROOT_USER ?? 'minioadmin';
  const password = process.env.MINIO_ROOT_PASSWORD ?? 'minioadmin';
  const child = spawn(
    process.env.RKVS_MINIO_BIN || 'minio',
    ['server', join(dataDir, 'data'), '--address', `${HOST}:${port}`, '--console-address', `${HOST}:${consolePort}`, '--quiet'],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, MINIO_ROOT_USER: user, MINIO_ROOT_PASSWORD: password } },
  );
  let exited = false;
  child.once('exit', (code) => {
    exited = true;
    if (!stopping) {
      process.stderr.write(`minio exited with code ${code}\n`);
      void shutdown(1);
    }
  });
  stopServer = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  process.once('exit', () => {
    if (!exited) child.kill('SIGKILL');
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://${HOST}:${port}/minio/health/live`);
      if (res.ok) return ready({ port, accessKeyId: user, secretAccessKey: password });
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('minio did not become ready within 30 s');
}

async function startSwift() {
  const script = process.env.RKVS_SWIFT_S3_SCRIPT;
  if (!script) throw new Error('RKVS_SWIFT_S3_SCRIPT is not set (the path of scripts/swift-s3api.sh)');
  const dir = join(dataDir, 'swift');
  // The script starts daemons in their own sessions and returns; "stop" kills every process that
  // carries this instance's marker and removes the directory.
  let starting;
  stopServer = async () => {
    starting?.kill('SIGKILL');
    // Output collected, not inherited: after our parent died, a write to its pipe would kill the script.
    const res = spawnSync('bash', [script, 'stop', dir], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 20_000 });
    try {
      process.stderr.write(`${res.stdout ?? ''}${res.stderr ?? ''}`);
    } catch {
      // nobody is listening any more
    }
  };
  const out = await new Promise((resolve, reject) => {
    starting = spawn('bash', [script, 'start', '--dir', dir, '--no-install'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    starting.stdout.setEncoding('utf8');
    starting.stdout.on('data', (c) => (text += c));
    starting.once('error', reject);
    starting.once('close', (code, sig) => {
      starting = undefined;
      if (code === 0) resolve(text);
      else reject(new Error(`scripts/swift-s3api.sh start failed (exit ${code ?? sig}); its messages are above`));
    });
  });
  const env = {};
  for (const line of out.split('\n')) {
    const m = /^export (RKVS_SWIFT_S3_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  const endpoint = env.RKVS_SWIFT_S3_ENDPOINT;
  if (!endpoint) throw new Error(`scripts/swift-s3api.sh start printed no RKVS_SWIFT_S3_ENDPOINT:\n${out}`);
  // Swift runs in processes of its own: stay alive while they do (nothing else keeps a detached
  // runner's event loop busy), and stop the rest when one of them dies.
  const pids = readFileSync(join(dir, 'pids'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [pid, name] = l.trim().split(' ');
      return { pid: Number(pid), name };
    });
  const alive = (pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'; // a zombie is dead
    } catch {
      try {
        process.kill(pid, 0); // no /proc: ask the kernel
        return true;
      } catch {
        return false;
      }
    }
  };
  setInterval(() => {
    for (const { pid, name } of pids) {
      if (!alive(pid)) {
        process.stderr.write(`swift ${name} (pid ${pid}) exited; stopping the rest\n`);
        void shutdown(1);
        return;
      }
    }
  }, 2000);
  ready({
    port: Number(new URL(endpoint).port),
    accessKeyId: env.RKVS_SWIFT_S3_ACCESS_KEY_ID,
    secretAccessKey: env.RKVS_SWIFT_S3_SECRET_ACCESS_KEY,
    region: env.RKVS_SWIFT_S3_REGION,
  });
}

async function startAzurite() {
  const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration.js').default;
  const BlobServer = require('azurite/dist/src/blob/BlobServer.js').default;
  const persistence = [{ locationId: 'Default', locationPath: join(dataDir, '__blobstorage__'), maxConcurrency: 10 }];
  const config = new BlobConfiguration(
    HOST,
    0,
    undefined, // keepAliveTimeout: default
    join(dataDir, '__azurite_db_blob__.json'),
    join(dataDir, '__azurite_db_blob_extent__.json'),
    persistence,
    false, // access log
    undefined,
    false, // debug log
    undefined,
    false, // loose
    true, // skipApiVersionCheck: the pinned SDK may send a newer x-ms-version than Azurite knows
  );
  const server = new BlobServer(config);
  await server.start();
  stopServer = async () => {
    await server.close();
    await server.clean?.().catch(() => {});
  };
  const address = server.getHttpServerAddress();
  ready({ port: Number(new URL(address).port) });
}

async function startGcs() {
  // The Cloud Storage emulator of firebase-tools serves the GCS JSON API. Its gcloud endpoints use the
  // admin storage layer (no security rules), so the Java rules runtime is not needed: we build the
  // express app ourselves instead of calling StorageEmulator.start().
  const { StorageEmulator } = require('firebase-tools/lib/emulator/storage/index.js');
  const { createApp } = require('firebase-tools/lib/emulator/storage/server.js');
  // Its storage layer keys objects by path.join(bucket, name), which folds "a/../b" into "b" and
  // "a//b" into "a/b"; real GCS keeps object names verbatim, so key them verbatim too.
  const { StorageLayer } = require('firebase-tools/lib/emulator/storage/files.js');
  StorageLayer.prototype.path = function verbatimPath(bucket, object) {
    return `${bucket}/${object}`;
  };
  const projectId = process.env.RKVS_GCS_PROJECT || 'rkvs-emulator';
  const emulator = new StorageEmulator({ projectId, host: HOST, port: 1, rules: { name: 'none', content: '' } });
  const app = await createApp(projectId, emulator);
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, HOST, () => resolve(s));
    s.once('error', reject);
  });
  // Bucket metadata asks the registry for the emulator's own URL.
  emulator.args.port = server.address().port;
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry.js');
  EmulatorRegistry.set('storage', emulator);
  const sockets = new Set();
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });
  stopServer = () =>
    new Promise((resolve) => {
      for (const sock of sockets) sock.destroy();
      server.close(() => resolve());
    });
  ready({ port: server.address().port, projectId });
}

const starters = { fauxqs: startFauxqs, minio: startMinio, swift: startSwift, azurite: startAzurite, gcs: startGcs };
const start = starters[kind];
if (!start) {
  process.stderr.write(`unknown emulator kind "${kind}"; expected one of ${Object.keys(starters).join(', ')}\n`);
  process.exit(2);
}
start().catch((e) => {
  process.stderr.write(`failed to start ${kind}: ${e?.stack ?? e}\n`);
  void shutdown(1);
});
