/**
 * Suites: what `rkvs bench` runs. A suite file in benchmarks/ default-exports `defineSuite({...})`
 * (a .ts/.js module) or is a .json/.yaml file with the same fields.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import YAML from 'yaml';
import { ConfigError } from '../../errors.js';
import { importFile } from '../../util/import-file.js';
import { PACKAGE_ROOT } from '../../util/package-root.js';
import { BENCH_SCHEDULES, BENCH_VARIANTS, workloadSchema, type WorkloadInput } from './workload.js';

const int = (min: number) => z.number().int().min(min);

export const suiteSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . - only'),
    description: z.string().default(''),
    /**
     * 'latency' (default): workloads against configurations; 'micro': tinybench CPU cost on memory
     * replicas; 'model': the workloads on the deterministic simulator, exact metrics (exact.csv).
     */
    kind: z.enum(['latency', 'micro', 'model']).default('latency'),
    variants: z.array(z.enum(BENCH_VARIANTS)).min(1).default(['raw', 'regular', 'atomic']),
    schedules: z.array(z.enum(BENCH_SCHEDULES)).min(1).default(['fast']),
    repeat: int(1).default(1),
    seed: int(0).default(1),
    /** Peak-overhead sampling interval in ms (0: only one sample at the end of the measured phase). */
    sampleMs: int(0).default(250),
    /** Configuration used when no --config is given. */
    defaultConfig: z
      .union([
        z.literal('emulators'),
        z.object({ memory: z.object({ n: int(1).default(3), t: int(0).optional(), delayMs: z.number().min(0).default(0) }).strict() }).strict(),
      ])
      .default('emulators'),
    workloads: z.array(workloadSchema).default([]),
    /**
     * Worker processes each cell's clients are spread over (overridden by --workers): a count,
     * a list of counts (every configuration runs once per count, labelled <config>@<n>w), or
     * 'sweep' for 1, 2, ... up to the number of cores.
     */
    workers: z.union([int(1), z.literal('sweep'), z.array(int(1)).min(1)]).optional(),
    /** Extra measurements shown in the summary. */
    checks: z
      .object({
        /** Memory replicas with a fixed delay per call: p50 of each op vs rounds x d. */
        latencyModel: z.object({ delayMs: z.number().positive().default(20), ops: int(1).default(30), n: int(1).default(3) }).strict().optional(),
        /** Raw memory store with a fixed delay: harness time vs a bare loop. */
        harnessOverhead: z.object({ delayMs: z.number().positive().default(1), ops: int(1).default(300) }).strict().optional(),
      })
      .strict()
      .default({}),
    /** model suites: the simulated replicas (n, t, and the virtual delay of every call in ms; default n 3, d 10). */
    model: z.object({ n: int(1).default(3), t: int(0).optional(), delayMs: z.number().positive().default(10) }).strict().optional(),
    /** micro suites: tinybench settings. */
    micro: z
      .object({
        valueBytes: z.array(int(0)).min(1).default([1024]),
        n: int(1).default(3),
        timeMs: int(1).default(500),
        registers: int(1).default(16),
      })
      .strict()
      .default({ valueBytes: [1024], n: 3, timeMs: 500, registers: 16 }),
  })
  .strict();

export type SuiteInput = z.input<typeof suiteSchema>;
export type Suite = z.output<typeof suiteSchema>;

/** Identity helper for suite files (typed input). */
export function defineSuite(s: SuiteInput & { workloads?: WorkloadInput[] }): SuiteInput {
  return s;
}

/** Directory of the built-in suites (in the compiled build: their compiled modules, dist/benchmarks). */
export const BENCHMARKS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../benchmarks');
/** Where built-in suites are looked up: BENCHMARKS_DIR, then the package's benchmarks/ (.json/.yaml suites are not compiled). */
const SUITE_DIRS = [...new Set([BENCHMARKS_DIR, path.join(PACKAGE_ROOT, 'benchmarks')])];
const SUITE_FILE = /\.(ts|js|json|ya?ml)$/;

/** Validates a suite object; errors name the field and how to fix it. */
export function parseSuite(input: unknown, source: string): Suite {
  const r = suiteSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(suite)';
    throw new ConfigError(`suite ${source}`, `${where}: ${issue?.message ?? 'invalid'} (see docs/benchmarks.md for the suite format)`);
  }
  return r.data;
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** Names of the built-in suites. */
export async function builtinSuites(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const names = new Set<string>();
  for (const dir of SUITE_DIRS) {
    try {
      for (const f of await readdir(dir)) if (SUITE_FILE.test(f) && !f.endsWith('.d.ts')) names.add(f.replace(SUITE_FILE, ''));
    } catch {
      // no such directory
    }
  }
  return [...names].sort();
}

/** Loads a suite by built-in name or by file path (.ts, .js, .mjs, .json, .yaml). */
export async function loadSuite(nameOrFile: string): Promise<Suite> {
  let file: string | undefined;
  if (/[\\/]/.test(nameOrFile) || /\.(ts|js|mjs|json|ya?ml)$/.test(nameOrFile)) {
    file = path.resolve(nameOrFile);
    if (!(await exists(file))) throw new ConfigError('--suite', `file ${nameOrFile} not found; give a suite name (${(await builtinSuites()).join(', ')}) or an existing file`);
  } else {
    if (!/^[A-Za-z0-9_.-]+$/.test(nameOrFile)) throw new ConfigError('--suite', `invalid suite name ${JSON.stringify(nameOrFile)}`);
    search: for (const dir of SUITE_DIRS) {
      for (const ext of ['ts', 'js', 'json', 'yaml']) {
        const p = path.join(dir, `${nameOrFile}.${ext}`);
        if (await exists(p)) {
          file = p;
          break search;
        }
      }
    }
    if (!file) throw new ConfigError('--suite', `unknown suite ${JSON.stringify(nameOrFile)}; built-in suites: ${(await builtinSuites()).join(', ')} (or give a file path)`);
  }
  let raw: unknown;
  try {
    if (/\.json$/.test(file)) raw = JSON.parse(await readFile(file, 'utf8'));
    else if (/\.ya?ml$/.test(file)) raw = YAML.parse(await readFile(file, 'utf8'));
    else raw = (await importFile(file, '--suite')).default;
  } catch (e) {
    throw new ConfigError(`suite ${file}`, `cannot be read: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (raw === undefined) throw new ConfigError(`suite ${file}`, 'has no default export; write `export default defineSuite({...})`');
  return parseSuite(raw, path.relative(process.cwd(), file) || file);
}
