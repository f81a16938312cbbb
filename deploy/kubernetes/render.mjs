#!/usr/bin/env node
// Renders deploy/kubernetes/bench-indexed-job.yaml for one run, without kustomize or rkvs: the run
// id (the Job's name), the image, the number of shards (completions, parallelism and
// RKVS_SHARD_COUNT together) and the rkvs bench options, the ConfigMap, Secret and volume claim.
// Comments are kept; everything else stays as in the manifest. Needs Node 20+ and `npm ci` (it uses
// the `yaml` package of this repository).
//
//   node deploy/kubernetes/render.mjs --run-id rkvs-bench-002 --image registry.example.com/robust-kvs:1.0 \
//     --shards 6 --suite default --configs aws+azure+gcs --workers 2 | kubectl apply -f -
//
// Options (every one optional but --run-id; unset ones keep the manifest's value):
//   --run-id ID        Job name and run id: lowercase letters, digits and '-', at most 63 characters
//   --image IMAGE      container image with Node 20+ and this repository after `npm ci` in /app
//   --shards N         number of shards (pods), 1..1000
//   --suite NAME       rkvs bench --suite
//   --configs A,B      rkvs bench --configs (configuration names in the ConfigMap's rkvs.yaml)
//   --workers N        rkvs bench --workers (the same number on every shard: it is part of the cell key)
//   --history          add rkvs bench --history (history.jsonl for rkvs check after rkvs merge)
//   --config-map NAME  ConfigMap holding rkvs.yaml (default in the manifest: rkvs-bench-config)
//   --secret NAME      Secret with the credentials as environment variables (default: rkvs-cloud-credentials)
//   --claim NAME       ReadWriteMany PersistentVolumeClaim for the shard directories (default: rkvs-bench-results)
//   --manifest FILE    manifest to start from (default: bench-indexed-job.yaml beside this script)
// Writes the rendered manifest on stdout; a bad option is an error on stderr naming it, exit code 2.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FLAGS = ['run-id', 'image', 'shards', 'suite', 'configs', 'workers', 'config-map', 'secret', 'claim', 'manifest'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

class UsageError extends Error {}

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--history') {
      o.history = true;
      continue;
    }
    if (a === '-h' || a === '--help') {
      o.help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !FLAGS.includes(m[1])) throw new UsageError(`unknown option ${JSON.stringify(a)}; options: ${FLAGS.map((f) => `--${f}`).join(' ')} --history`);
    const v = m[2] ?? argv[++i];
    if (v === undefined || v === '') throw new UsageError(`--${m[1]} needs a value`);
    o[m[1]] = v;
  }
  return o;
}

function check(o) {
  if (!o['run-id']) throw new UsageError('--run-id is required: the Job name, which every shard uses as its run id (e.g. --run-id rkvs-bench-002)');
  const id = o['run-id'];
  if (id.length > 63 || !DNS_LABEL.test(id))
    throw new UsageError(`--run-id ${JSON.stringify(id)} cannot be a Job name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit`);
  if (o.shards !== undefined && (!/^\d+$/.test(o.shards) || Number(o.shards) < 1 || Number(o.shards) > 1000))
    throw new UsageError(`--shards expects an integer from 1 to 1000, got ${JSON.stringify(o.shards)}`);
  if (o.workers !== undefined && !/^[1-9]\d*$/.test(o.workers))
    throw new UsageError(`--workers expects a number of worker processes >= 1 (the same on every shard, not auto), got ${JSON.stringify(o.workers)}`);
  if (o.image !== undefined && /\s/.test(o.image)) throw new UsageError(`--image ${JSON.stringify(o.image)} contains white space`);
  for (const k of ['config-map', 'secret', 'claim'])
    if (o[k] !== undefined && (o[k].length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o[k])))
      throw new UsageError(`--${k} ${JSON.stringify(o[k])} is not a Kubernetes object name (lowercase letters, digits, '-' and '.')`);
  for (const k of ['suite', 'configs']) if (o[k] !== undefined && /\s/.test(o[k])) throw new UsageError(`--${k} ${JSON.stringify(o[k])} contains white space`);
}

/** Sets `--name=value` in the container's args (replacing it, or adding it). */
function setArg(args, name, value) {
  const items = args.items;
  const i = items.findIndex((n) => String(n.value).startsWith(`--${name}=`) || String(n.value) === `--${name}`);
  const text = value === true ? `--${name}` : `--${name}=${value}`;
  if (i >= 0) items[i].value = text;
  else args.add(text);
}

export function render(text, o) {
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length) throw new Error(`the manifest does not parse: ${d.errors[0].message}`);
  const job = docs.find((d) => d.get('kind') === 'Job');
  if (!job) throw new Error('the manifest has no Job');
  const c = ['spec', 'template', 'spec', 'containers', 0];
  job.setIn(['metadata', 'name'], o['run-id']);
  if (o.shards !== undefined) {
    job.setIn(['spec', 'completions'], Number(o.shards));
    job.setIn(['spec', 'parallelism'], Number(o.shards));
    const env = job.getIn([...c, 'env']);
    const count = env.items.find((e) => e.get('name') === 'RKVS_SHARD_COUNT');
    count.set('value', String(o.shards));
  }
  if (o.image !== undefined) job.setIn([...c, 'image'], o.image);
  const args = job.getIn([...c, 'args']);
  if (o.suite !== undefined) setArg(args, 'suite', o.suite);
  if (o.configs !== undefined) setArg(args, 'configs', o.configs);
  if (o.workers !== undefined) setArg(args, 'workers', o.workers);
  if (o.history) setArg(args, 'history', true);
  if (o['config-map'] !== undefined) {
    const v = job.getIn(['spec', 'template', 'spec', 'volumes']).items.find((x) => x.get('name') === 'config');
    v.setIn(['configMap', 'name'], o['config-map']);
  }
  if (o.secret !== undefined) job.setIn([...c, 'envFrom', 0, 'secretRef', 'name'], o.secret);
  if (o.claim !== undefined) {
    const v = job.getIn(['spec', 'template', 'spec', 'volumes']).items.find((x) => x.get('name') === 'results');
    v.setIn(['persistentVolumeClaim', 'claimName'], o.claim);
    const pvc = docs.find((d) => d.get('kind') === 'PersistentVolumeClaim');
    if (pvc) pvc.setIn(['metadata', 'name'], o.claim);
  }
  return docs.map((d) => d.toString({ lineWidth: 0, flowCollectionPadding: false })).join('');
}

function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
    if (o.help) {
      process.stdout.write(`${readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 26).map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
      return;
    }
    check(o);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`render.mjs: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  const file = o.manifest ?? path.join(HERE, 'bench-indexed-job.yaml');
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    process.stderr.write(`render.mjs: --manifest: cannot read ${file} (${e.message})\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(render(text, o));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
