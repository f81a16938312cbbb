/**
 * The Kubernetes Indexed Job (deploy/kubernetes/bench-indexed-job.yaml), and what
 * deploy/kubernetes/render.mjs makes of it, checked against the Kubernetes API:
 * - every object validates against the API's JSON schemas (kubernetes-models, generated from the
 *   official OpenAPI document: types, required fields, enums, integer formats);
 * - no field is unknown to the API (the object type-checks as the API type with TypeScript's
 *   excess-property checks, at every depth);
 * - the wiring: an Indexed Job whose completions, parallelism and RKVS_SHARD_COUNT agree, each pod's
 *   environment (JOB_COMPLETION_INDEX, the run id from the job-name label) resolving to shard i of N
 *   with `rkvs bench`'s own code, container args that `rkvs bench` accepts, and the volumes they name.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkRunId, resolveShard } from '../../src/bench/run/shard.js';
import { registerBench } from '../../src/commands/bench.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const MANIFEST = path.join(ROOT, 'deploy/kubernetes/bench-indexed-job.yaml');
const RENDER = path.join(ROOT, 'deploy/kubernetes/render.mjs');

type Obj = Record<string, unknown> & { kind?: string };

/** The objects of a manifest (YAML documents). */
function objects(text: string): Obj[] {
  return parseAllDocuments(text).map((d) => {
    expect(d.errors, String(d.errors[0]?.message)).toEqual([]);
    return d.toJS() as Obj;
  });
}

const MODELS: Record<string, { type: string; module: string; validate: (o: Obj) => void }> = {
  Job: { type: 'IJob', module: 'kubernetes-models/batch/v1', validate: (o) => new Job(o as never).validate() },
  PersistentVolumeClaim: { type: 'IPersistentVolumeClaim', module: 'kubernetes-models/v1', validate: (o) => new PersistentVolumeClaim(o as never).validate() },
};

/**
 * TypeScript errors of the objects typed as their API types: an object literal with a property the
 * type does not have is an error at any depth, so this finds every field the API does not know.
 */
function unknownFieldErrors(objs: readonly Obj[]): string[] {
  const source = objs
    .map((o, i) => {
      const m = MODELS[o.kind ?? ''];
      if (!m) return `export const unknownKind${i}: never = ${JSON.stringify(o.kind)};`;
      return `import type { ${m.type} as T${i} } from '${m.module}';\nexport const o${i}: T${i} = ${JSON.stringify(o, null, 1)};`;
    })
    .join('\n');
  const file = path.join(ROOT, 'test', '__k8s_manifest_check__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (f, v, ...rest) => (f === file ? ts.createSourceFile(f, source, v) : getSourceFile.call(host, f, v, ...rest));
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  host.readFile = (f) => (f === file ? source : readFile.call(host, f));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** Validates every object against its API schema and finds unknown fields; returns the problems. */
function apiProblems(objs: readonly Obj[]): string[] {
  const problems: string[] = [];
  for (const o of objs) {
    const m = MODELS[o.kind ?? ''];
    if (!m) {
      problems.push(`kind ${String(o.kind)} is not checked by this test`);
      continue;
    }
    try {
      m.validate(o);
    } catch (e) {
      problems.push(`${o.kind}: ${(e as Error).message}`);
    }
  }
  return [...problems, ...unknownFieldErrors(objs)];
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Container {
  args: string[];
  command: string[];
  env: EnvVar[];
  envFrom: { secretRef: { name: string } }[];
  volumeMounts: { name: string; mountPath: string }[];
  image: string;
}
interface JobShape {
  metadata: { name: string };
  spec: {
    completionMode: string;
    completions: number;
    parallelism: number;
    template: { spec: { containers: Container[]; volumes: { name: string; configMap?: { name: string }; persistentVolumeClaim?: { claimName: string } }[] } };
  };
}

/** The options `rkvs bench` defines (from its own command definition). */
function benchOptions(): Set<string> {
  const program = new Command();
  registerBench(program);
  const bench = program.commands.find((c) => c.name() === 'bench');
  return new Set((bench?.options ?? []).map((o) => o.long ?? ''));
}

/** Checks the Indexed Job's wiring: N pods, each resolving to its shard with the Job's name as run id. */
function checkWiring(objs: readonly Obj[]): { job: JobShape; container: Container } {
  const job = objs.find((o) => o.kind === 'Job') as unknown as JobShape;
  const pvc = objs.find((o) => o.kind === 'PersistentVolumeClaim') as unknown as { metadata: { name: string }; spec: { accessModes: string[] } };
  const { spec } = job;
  expect(spec.completionMode).toBe('Indexed');
  expect(spec.parallelism).toBe(spec.completions);
  const container = spec.template.spec.containers[0] as Container;
  const env = new Map(container.env.map((e) => [e.name, e]));
  expect(Number(env.get('RKVS_SHARD_COUNT')?.value)).toBe(spec.completions);
  expect(env.get('JOB_COMPLETION_INDEX')?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
  expect(env.get('RKVS_RUN_ID')?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.labels['job-name']");
  // what each pod's process sees: Kubernetes sets the index and the job-name label
  for (let i = 0; i < spec.completions; i++) {
    const podEnv = { JOB_COMPLETION_INDEX: String(i), RKVS_SHARD_COUNT: env.get('RKVS_SHARD_COUNT')?.value, RKVS_RUN_ID: job.metadata.name };
    expect(resolveShard({}, podEnv)).toEqual({ index: i, count: spec.completions });
  }
  expect(checkRunId('RKVS_RUN_ID', job.metadata.name)).toBe(job.metadata.name);
  // the container runs rkvs bench with options it knows, each given once
  expect(container.command).toEqual(['node', 'bin/rkvs.js', 'bench']);
  const known = benchOptions();
  const flags = container.args.map((a) => a.split('=')[0] as string);
  for (const f of flags) expect(known.has(f) || (f.startsWith('--no-') && known.has(f)), `rkvs bench has no option ${f}`).toBe(true);
  expect(new Set(flags).size).toBe(flags.length);
  expect(container.args).not.toContain('--workers=auto');
  // the config file and the output directory are on the volumes the pod mounts
  const arg = (name: string) => container.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) as string;
  const mountOf = (p: string) => container.volumeMounts.find((m) => p.startsWith(`${m.mountPath}/`) || p === m.mountPath);
  const volumes = new Map(spec.template.spec.volumes.map((v) => [v.name, v]));
  expect(volumes.get(mountOf(arg('config'))?.name ?? '')?.configMap?.name).toBeTruthy();
  const results = volumes.get(mountOf(arg('out'))?.name ?? '');
  expect(results?.persistentVolumeClaim?.claimName).toBe(pvc.metadata.name);
  expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
  return { job, container };
}

describe('deploy/kubernetes/bench-indexed-job.yaml', () => {
  it('validates against the Kubernetes API schemas, with no unknown field', () => {
    expect(apiProblems(objects(readFileSync(MANIFEST, 'utf8')))).toEqual([]);
  }, 60_000);

  it('wires the completion index, the shard count and the run id into every pod', () => {
    const { job } = checkWiring(objects(readFileSync(MANIFEST, 'utf8')));
    expect(job.metadata.name).toBe('rkvs-bench-001');
  });

  it('the checks have teeth: a misspelt field, a wrong type and a bad enum are each reported', () => {
    const text = readFileSync(MANIFEST, 'utf8');
    const typo = objects(text.replace('completionMode: Indexed', 'completionmode: Indexed'));
    expect(apiProblems(typo).join('\n')).toMatch(/'"completionmode"' does not exist in type 'IJobSpec'/);
    const deep = objects(text.replace('fieldPath: metadata.labels', 'fieldpath: metadata.labels'));
    expect(apiProblems(deep).join('\n')).toMatch(/'"fieldpath"' does not exist in type/);
    const wrongType = objects(text.replace(/completions: 4/, 'completions: "4"'));
    expect(apiProblems(wrongType).join('\n')).toMatch(/Job: .*data\/spec\/completions must be integer/);
    const badEnum = objects(text.replace('completionMode: Indexed', 'completionMode: Ordered'));
    expect(apiProblems(badEnum).join('\n')).toMatch(/data\/spec\/completionMode must be equal to one of the allowed values/);
    expect(() => checkWiring(objects(text.replace('value: "4"', 'value: "3"')))).toThrow();
  }, 60_000);
});

describe('deploy/kubernetes/render.mjs', () => {
  const render = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [RENDER, ...args], { cwd: ROOT });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { code: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
    }
  };

  it('sets the run id, image, shard count and options, and the result still validates and is wired', async () => {
    const r = await render(['--run-id', 'nightly-7', '--image', 'registry.example.com/robust-kvs:1.2', '--shards', '6', '--suite', 'quick', '--configs', 'aws+azure+gcs', '--workers', '3', '--history', '--config-map', 'my-config', '--secret', 'my-creds', '--claim', 'my-results']);
    expect(r.code, r.stderr).toBe(0);
    const objs = objects(r.stdout);
    expect(apiProblems(objs)).toEqual([]);
    const { job, container } = checkWiring(objs);
    expect(job.metadata.name).toBe('nightly-7');
    expect(job.spec.completions).toBe(6);
    expect(container.image).toBe('registry.example.com/robust-kvs:1.2');
    expect(container.args).toEqual(expect.arrayContaining(['--suite=quick', '--configs=aws+azure+gcs', '--workers=3', '--history']));
    expect(container.envFrom[0]?.secretRef.name).toBe('my-creds');
    expect(job.spec.template.spec.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe('my-config');
    // the manifest's comments stay
    expect(r.stdout).toContain('# A sharded rkvs benchmark as a Kubernetes Indexed Job');
  }, 60_000);

  it('refuses bad options with exit code 2, naming the option', async () => {
    for (const [args, msg] of [
      [['--shards', '3'], /--run-id is required/],
      [['--run-id', 'Nightly_7'], /--run-id "Nightly_7" cannot be a Job name/],
      [['--run-id', 'n', '--shards', '0'], /--shards expects an integer from 1 to 1000, got "0"/],
      [['--run-id', 'n', '--workers', 'auto'], /--workers expects a number of worker processes >= 1 \(the same on every shard, not auto\)/],
      [['--run-id', 'n', '--replicas', '3'], /unknown option "--replicas"/],
    ] as const) {
      const r = await render([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
    }
  }, 60_000);
});
