/**
 * Endpoint checks shared by the cloud adapters: an endpoint must be an http(s) URL without user
 * info. A password in a URL travels into SDK error messages, logs and reports, so it is refused
 * (with the URL redacted in the message), and the credentials go where each provider takes them.
 */
import { ConfigError } from '../errors.js';
import { REDACTED, redactUrl } from '../util/redact.js';

type Provider = 's3' | 'azure' | 'gcs';

/** Variables that may hold `host:port` without a scheme. */
const HOST_PORT_FORM = new Set(['STORAGE_EMULATOR_HOST']);

const HELP: Record<Provider, { example: string; credentials: string }> = {
  s3: {
    example: 'http://127.0.0.1:9000',
    credentials: 'the credentials option or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or an AWS profile)',
  },
  azure: {
    example: 'https://myaccount.blob.core.windows.net',
    credentials: 'accountName with accountKey or sasToken, or a connection string (or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY)',
  },
  gcs: {
    example: 'http://127.0.0.1:9199',
    credentials: 'keyFilename or application default credentials (GOOGLE_APPLICATION_CREDENTIALS)',
  },
};

/**
 * Checks the endpoint a store will use. `candidates` maps where a value comes from (an option such
 * as `s3.endpoint`, or an environment variable) to the value, in precedence order: the first one
 * that is set is the one in use, and only it is checked. `STORAGE_EMULATOR_HOST` may be given as
 * `host:port`, read as `http://host:port` (as the GCS SDK does).
 * Throws a ConfigError naming the option or variable when the URL does not parse, is not http(s),
 * or carries a user name or password.
 */
export function checkEndpoints(provider: Provider, candidates: Record<string, string | undefined>): void {
  const entry = Object.entries(candidates).find(([, v]) => v !== undefined && v.trim() !== '');
  if (!entry) return;
  const [where, raw] = entry as [string, string];
  const { example, credentials } = HELP[provider];
  const trimmed = raw.trim();
  const text = HOST_PORT_FORM.has(where) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? `http://${trimmed}` : trimmed;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(where, `"${redactUrl(text)}" is not a URL; use e.g. ${example}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(
      where,
      `the URL "${redactUrl(text)}" carries a user name or password (${url.password !== '' ? `user:${REDACTED}` : REDACTED}@); ` +
        `credentials in a URL end up in error messages and logs. Remove the user info and give the credentials through ${credentials}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(where, `"${redactUrl(text)}" is a ${url.protocol.slice(0, -1)} URL; use an http:// or https:// URL, e.g. ${example}`);
  }
}

/** The `BlobEndpoint=` of an Azure connection string, if it has one. */
export function connectionStringEndpoint(connectionString: string | undefined): string | undefined {
  return connectionString === undefined ? undefined : /(?:^|;)\s*BlobEndpoint\s*=\s*([^;]*)/i.exec(connectionString)?.[1];
}
