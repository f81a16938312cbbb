/**
 * Redaction of credentials in text meant for people: every error message robust-kvs builds passes
 * through {@link redact} (StoreError, QuorumError and ConfigError in src/errors.ts, and the causes
 * they carry), so a secret given in any form never reaches a terminal, a log or a report.
 *
 * What is masked (with `***`):
 * - the password of a URL's user info (`http://user:***@host`), or the whole user info when it has
 *   no password (`https://***@host`: a bare token in the user name is a credential too);
 * - secret fields of connection strings: `AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=`,
 *   `Password=`;
 * - signatures and tokens in query strings (SAS tokens, presigned URLs): `sig=`, `signature=`,
 *   `X-Amz-Signature=`, `X-Amz-Security-Token=`, `X-Goog-Signature=`, `access_token=`, `token=`, ...;
 * - named secret fields in JSON, YAML, INI or `key=value` text: `private_key`, `client_secret`,
 *   `aws_secret_access_key`, `secretAccessKey`, `sessionToken`, `accountKey`, `sasToken`,
 *   `password`, `refresh_token`, ...;
 * - PEM private-key blocks, `Authorization` schemes (`Bearer`, `Basic`, `SharedKey`), and AWS
 *   Signature V4 `Signature=`;
 * - the literal values of well-known secret environment variables (`AWS_SECRET_ACCESS_KEY`,
 *   `AWS_SESSION_TOKEN`, `AZURE_STORAGE_KEY`, `AZURE_STORAGE_SAS_TOKEN`,
 *   `AZURE_STORAGE_CONNECTION_STRING`) and of secrets handed to robust-kvs in code
 *   ({@link registerSecret}: the adapters register the credentials they are given), wherever and
 *   however they appear.
 *
 * Redaction errs on the side of masking: a key or text that merely looks like one of these forms is
 * masked too. Identifiers that are not secrets (access key ids, account names, bucket names, user
 * names) are kept, so a message still says which credentials were used.
 */

/** What a secret is replaced with. */
export const REDACTED = '***';

/** Environment variables whose values are secrets, masked wherever they appear. */
export const SECRET_ENV_VARS: readonly string[] = [
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AZURE_STORAGE_KEY',
  'AZURE_STORAGE_ACCOUNT_KEY',
  'AZURE_STORAGE_SAS_TOKEN',
  'AZURE_STORAGE_CONNECTION_STRING',
];

/** Literal secrets shorter than this are not masked by value (too likely to occur by chance). */
const MIN_LITERAL = 8;
/** At most this many registered secrets are kept (oldest dropped first). */
const MAX_REGISTERED = 256;

const registered = new Set<string>();

/**
 * Remembers a secret so that {@link redact} masks its literal value wherever it appears (in an SDK's
 * message, a stack, a nested cause). Adapters call it with the credentials they are given; values
 * shorter than 8 characters and non-strings are ignored.
 */
export function registerSecret(...values: unknown[]): void {
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const s = v.trim();
    if (s.length < MIN_LITERAL || registered.has(s)) continue;
    if (registered.size >= MAX_REGISTERED) registered.delete(registered.values().next().value as string);
    registered.add(s);
  }
}

function literalSecrets(): string[] {
  const out = new Set<string>(registered);
  for (const name of SECRET_ENV_VARS) {
    const v = process.env[name]?.trim();
    if (v && v.length >= MIN_LITERAL) out.add(v);
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/** Field names whose value is a secret (matched in any case, with or without `_` and `-`). */
const SECRET_FIELDS = [
  'privatekey',
  'privatekeyid',
  'clientsecret',
  'secret',
  'secretkey',
  'secretaccesskey',
  'awssecretaccesskey',
  'sessiontoken',
  'awssessiontoken',
  'securitytoken',
  'accountkey',
  'storagekey',
  'sharedaccesskey',
  'sharedaccesssignature',
  'sastoken',
  'password',
  'passwd',
  'pwd',
  'refreshtoken',
  'accesstoken',
  'idtoken',
  'apikey',
  'token',
  'sig',
  'signature',
  'xamzsignature',
  'xamzsecuritytoken',
  'xgoogsignature',
];
/** One secret field name as written in text: any case, `_` or `-` allowed between its letters. */
const FIELD_NAME = [...SECRET_FIELDS]
  .sort((a, b) => b.length - a.length)
  .map((f) => f.split('').join('[-_]?'))
  .join('|');

/** `scheme://` and the rest of the URL, up to white space or a quote. */
const URL_TOKEN = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>]*)/gi;
/** A PEM private key, possibly with escaped newlines (inside JSON). */
const PEM_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;
/** `"name": "value"` / `'name': 'value'` (JSON, YAML, JS object literals, util.inspect). */
const QUOTED_FIELD = new RegExp(`(?<![A-Za-z0-9_-])(["']?)(${FIELD_NAME})\\1(\\s*[:=]\\s*)(["'])(?:\\\\.|(?!\\4)[^\\\\])*\\4`, 'gi');
/** `name=value` without quotes (query strings, connection strings, INI, environment assignments). */
const BARE_ASSIGNMENT = new RegExp(`(?<![A-Za-z0-9_-])(${FIELD_NAME})([ \\t]*=[ \\t]*)(?![\\s"'(])[^\\s&;,"'}<>)|]+`, 'gi');
/**
 * `name: value` without quotes (YAML, HTTP headers). Messages use `field: explanation` too (`azure.accountKey:
 * account "a" needs ...`), so only a value that looks like a credential is masked: 8 or more
 * characters, at least one of them a digit or one of `+/=_-`.
 */
const BARE_COLON = new RegExp(`(?<![A-Za-z0-9_-])(${FIELD_NAME})([ \\t]*:[ \\t]*)(?=[^\\s&;,"'}<>)|]*[0-9+/=_-])(?![\\s"'(])[^\\s&;,"'}<>)|]{8,}`, 'gi');
/** Authorization header schemes. */
const AUTH_SCHEME = /\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/-]+=*/g;
const SHARED_KEY = /\b(SharedKey(?:Lite)?\s+[^:\s]+:)[A-Za-z0-9+/]+=*/g;

/** Masks every credential in `text` (see the module comment). Text without secrets comes back unchanged. */
export function redact(text: string): string {
  if (typeof text !== 'string' || text === '') return text;
  let out = text;
  for (const secret of literalSecrets()) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  out = out.replace(PEM_KEY, (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----${REDACTED}-----END ${kind}PRIVATE KEY-----`);
  out = out.replace(URL_TOKEN, maskUserInfo);
  out = out.replace(QUOTED_FIELD, (_m, q: string, name: string, sep: string, vq: string) => `${q}${name}${q}${sep}${vq}${REDACTED}${vq}`);
  out = out.replace(BARE_ASSIGNMENT, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`);
  out = out.replace(BARE_COLON, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`);
  out = out.replace(AUTH_SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
  out = out.replace(SHARED_KEY, (_m, head: string) => `${head}${REDACTED}`);
  return out;
}

/** Masks the user info of one URL (`scheme` is `http://` and so on, `rest` what follows it). */
function maskUserInfo(url: string, scheme: string, rest: string): string {
  const end = rest.search(/[/?#\\]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  let at = authority.lastIndexOf('@');
  if (at < 0) {
    // `user:pa/ss@host` is not a valid URL, but what precedes its last `@` is still a password.
    const colon = authority.indexOf(':');
    const port = colon < 0 ? '' : authority.slice(colon + 1);
    if (colon < 0 || authority.startsWith('[') || /^\d*$/.test(port)) return url;
    at = rest.lastIndexOf('@');
    if (at < 0) return url;
  }
  const info = rest.slice(0, at);
  const colon = info.indexOf(':');
  const masked = colon < 0 ? REDACTED : `${info.slice(0, colon)}:${REDACTED}`;
  return `${scheme}${masked}${rest.slice(at)}`;
}

/** A URL for messages: its password (or bare user-info token) masked; text that is not a URL is redacted as text. */
export function redactUrl(url: string): string {
  return redact(String(url));
}

/** Field names whose value is a secret in a structured value (any case; `_` and `-` ignored). */
const SECRET_KEY_NAME = /secret|password|passwd|token|credential|private|access_?key|account_?key|storage_?key|shared_?access|connection_?string|sas|signature|api_?key/i;

/**
 * True when a field of that name holds a secret: a name of {@link redact}'s list, or one containing
 * secret, password, token, key, signature, connection string... A name ending in `Env` holds the
 * NAME of an environment variable (`secretAccessKeyEnv: AWS_SECRET_ACCESS_KEY`), not a secret.
 */
export function isSecretFieldName(name: string): boolean {
  if (/env$/i.test(name)) return false;
  const flat = name.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEY_NAME.test(name) || SECRET_FIELDS.includes(flat);
}

/**
 * A deep copy of a JSON-like value (meta.json, a described configuration) with every secret masked:
 * a non-empty string, number or boolean under a secret-looking field name (see
 * {@link isSecretFieldName}) becomes `***`, and every other string passes through {@link redact}
 * (URL passwords, keys in connection strings, registered secrets, ...). Objects and arrays under
 * secret-looking names are walked, not dropped, so the variable names they list stay readable.
 */
export function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const primitive = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
      out[k] = isSecretFieldName(k) && primitive && v !== '' ? REDACTED : redactValue(v);
    }
    return out;
  }
  if (typeof value === 'string') return redact(value);
  return value;
}

/**
 * Masks the credentials in an error object that is about to be kept or shown (the `cause` of our
 * errors), in place: the strings of its `message`, `stack` and own enumerable properties, and of the
 * plain objects, arrays and errors they hold (an SDK's `details`, a `cause` chain, AggregateError
 * `errors`), so that neither `console.error(err)` nor `JSON.stringify` shows a secret an SDK or a
 * server put there. Instances of other classes (requests, responses, sockets) are not walked.
 */
export function redactErrorInPlace(e: unknown): void {
  scrub(e, 0, new Set());
}

const MAX_DEPTH = 8;
const MAX_KEYS = 64;

function walkable(v: object): boolean {
  if (v instanceof Error || Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function scrub(v: unknown, depth: number, seen: Set<object>): void {
  if (depth > MAX_DEPTH || v === null || typeof v !== 'object' || seen.has(v) || !walkable(v)) return;
  seen.add(v);
  const keys = v instanceof Error ? ['message', 'stack', 'cause', 'errors', ...Object.keys(v)] : Object.keys(v);
  for (const key of new Set(keys.slice(0, MAX_KEYS))) {
    const d = Object.getOwnPropertyDescriptor(v, key);
    if (!d || !('value' in d)) continue; // absent, or a getter: leave it alone
    if (typeof d.value === 'string') {
      const r = redact(d.value);
      if (r === d.value) continue;
      try {
        (v as Record<string, unknown>)[key] = r;
      } catch {
        // a read-only property stays as it is
      }
    } else {
      scrub(d.value, depth + 1, seen);
    }
  }
}
