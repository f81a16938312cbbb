/**
 * Validation of a parsed configuration document: inline secrets are refused, the schema of
 * schema.ts is applied, replica references are resolved and n/t settled. Every problem is a
 * `ConfigError` whose path names the bad field.
 */
import { ConfigError } from '../../errors.js';
import { redactUrl } from '../../util/redact.js';
import {
  configFileSchema,
  DEFAULT_PREFIX_ROOT,
  formatPath,
  UNKNOWN_FIELD,
  type ConfigFile,
  type ParsedConfigFile,
  type ReplicaSpec,
  type ResolvedConfiguration,
} from './schema.js';

/** Keys that would hold a secret inline; the file must name an environment variable instead. */
const SECRET_KEYS = new Map<string, string>([
  ['accesskeyid', 'accessKeyIdEnv'],
  ['secretaccesskey', 'secretAccessKeyEnv'],
  ['sessiontoken', 'sessionTokenEnv'],
  ['accountkey', 'accountKeyEnv'],
  ['connectionstring', 'connectionStringEnv'],
  ['sastoken', 'sasTokenEnv'],
  ['sas', 'sasTokenEnv'],
  ['password', 'an environment variable name (…Env)'],
  ['secret', 'an environment variable name (…Env)'],
  ['token', 'an environment variable name (…Env)'],
  ['privatekey', 'keyFileEnv'],
  ['private_key', 'keyFileEnv'],
  ['key', 'an environment variable name (…Env)'],
  ['apikey', 'an environment variable name (…Env)'],
]);

function findInlineSecrets(value: unknown, path: PropertyKey[], out: ConfigError[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => findInlineSecrets(v, [...path, i], out));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const here = [...path, k];
    const hint = SECRET_KEYS.get(k.toLowerCase());
    // Section names (configurations/replicas maps) are user-chosen names, not fields.
    const isMapEntry = path.length === 1 && (path[0] === 'configurations' || path[0] === 'replicas' || path[0] === 'prices');
    if (hint && !isMapEntry && typeof v !== 'object') {
      out.push(
        new ConfigError(
          formatPath(here),
          `inline secrets are not allowed in a config file — put the value in an environment variable (or .env) and give its NAME in ${hint}`,
        ),
      );
    } else {
      findInlineSecrets(v, here, out);
    }
  }
  // Credentials in URLs (https://user:pass@host) are secrets too.
  const ep = (value as Record<string, unknown>).endpoint;
  if (typeof ep === 'string') {
    try {
      const u = new URL(ep);
      if (u.username || u.password || /sig=|sv=|x-amz-signature/i.test(u.search))
        out.push(
          new ConfigError(
            formatPath([...path, 'endpoint']),
            `the endpoint URL "${redactUrl(ep)}" carries credentials (${u.username || u.password ? 'a user name or password' : 'a signature or token in its query'}) — ` +
              'credentials in a URL end up in error messages and logs: remove them from the URL and give credentials by environment variable name (credentials.*Env)',
          ),
        );
    } catch {
      /* reported by the schema */
    }
  }
}

/** Every problem found in a document, as ConfigErrors with paths. Empty when valid. */
export function configProblems(doc: unknown): ConfigError[] {
  const problems: ConfigError[] = [];
  findInlineSecrets(doc, [], problems);
  const parsed = configFileSchema.safeParse(doc);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const p = formatPath(issue.path);
      if (problems.some((e) => e.path === p)) continue; // the secret message is the better one
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        const keys = (issue as { keys?: string[] }).keys ?? [];
        for (const key of keys) {
          const kp = formatPath([...issue.path, key]);
          if (problems.some((e) => e.path === kp)) continue;
          problems.push(new ConfigError(kp, UNKNOWN_FIELD));
        }
        continue;
      }
      if (/^Invalid input$/.test(message)) message = 'invalid value (see docs/configurations.md)';
      problems.push(new ConfigError(p || '(file)', message));
    }
  }
  return problems;
}

/** One ConfigError listing every problem (the first path is the error's path). */
export function combineProblems(file: string, problems: ConfigError[]): ConfigError {
  if (problems.length === 1) return new ConfigError(problems[0].path, `${problems[0].message.slice(problems[0].path.length + 2)} (in ${file})`);
  const lines = problems.map((p) => `  ${p.message}`).join('\n');
  return new ConfigError('', `${file}: ${problems.length} problems in the configuration file:\n${lines}`);
}

/**
 * Validates a parsed document and resolves replica references. Throws a ConfigError naming
 * the bad field(s) by path.
 */
export function validateConfigDocument(doc: unknown, file: string): Omit<ConfigFile, 'path' | 'env'> & { envFile?: string } {
  const problems = configProblems(doc);
  if (problems.length) throw combineProblems(file, problems);
  const parsed = configFileSchema.parse(doc) as ParsedConfigFile;
  const named = parsed.replicas ?? {};
  const defaults = parsed.defaults ?? {};
  const configurations: ResolvedConfiguration[] = [];
  const refProblems: ConfigError[] = [];
  for (const [name, c] of Object.entries(parsed.configurations)) {
    const replicas: ReplicaSpec[] = [];
    c.replicas.forEach((r, i) => {
      if (typeof r === 'string') {
        const found = named[r];
        if (!found) {
          const known = Object.keys(named);
          refProblems.push(
            new ConfigError(
              formatPath(['configurations', name, 'replicas', i]),
              `no replica named "${r}" under replicas:` + (known.length ? ` (known: ${known.join(', ')})` : ' (the file defines no named replicas)'),
            ),
          );
          return;
        }
        replicas.push({ ...found, name: found.name ?? r });
      } else replicas.push(r);
    });
    const n = c.replicas.length;
    if (c.n !== undefined && c.n !== n)
      refProblems.push(
        new ConfigError(formatPath(['configurations', name, 'n']), `is ${c.n} but ${n} replicas are listed; n is the number of replicas (remove n or fix the list)`),
      );
    const t = c.t ?? defaults.t ?? Math.floor((n - 1) / 2);
    if (n < 2 * t + 1)
      refProblems.push(
        new ConfigError(
          formatPath(['configurations', name, c.t !== undefined ? 't' : 'replicas']),
          `n = ${n} replicas tolerate at most t = ${Math.floor((n - 1) / 2)} faults (n >= 2t + 1), but t = ${t}; add replicas or lower t`,
        ),
      );
    // Default names: provider-index, unique within the configuration.
    const seen = new Set<string>();
    replicas.forEach((r, i) => {
      let nm = r.name ?? `${r.provider === 'emulator' ? r.kind : r.provider}-${i}`;
      if (seen.has(nm)) nm = `${nm}-${i}`;
      seen.add(nm);
      replicas[i] = { ...r, name: nm };
    });
    configurations.push({
      name,
      description: c.description,
      replicas,
      n,
      t,
      variants: c.variants ?? defaults.variants,
      schedules: c.schedules ?? defaults.schedules,
    });
  }
  if (refProblems.length) throw combineProblems(file, refProblems);
  return {
    envFile: parsed.env,
    prefixRoot: defaults.prefixRoot ?? DEFAULT_PREFIX_ROOT,
    configurations,
    prices: parsed.prices ?? {},
    defaults: { t: defaults.t, variants: defaults.variants, schedules: defaults.schedules },
  };
}
