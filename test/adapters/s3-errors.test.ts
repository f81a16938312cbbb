/**
 * The S3 adapter's reading of server answers that the local servers cannot be made to give (AWS's
 * form-style key encoding, a 301 with x-amz-bucket-region, a generic 500), from a local HTTP server
 * that answers each request as the test says. The official SDK makes the requests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store, decodeListedKey } from '../../src/adapters/s3.js';
import { isPermanentServerError } from '../../src/adapters/errors-map.js';
import { storeErrorOf } from '../emulators/adapter-edge-cases.js';

type Answer = { status: number; headers?: Record<string, string>; body?: string };
type Handler = (req: IncomingMessage, n: number) => Answer;

let server: Server;
let endpoint = '';
let handler: Handler = () => ({ status: 200 });
const seen: { method: string; url: string }[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '' });
      const a = handler(req, seen.length);
      res.writeHead(a.status, { 'content-type': 'application/xml', ...a.headers });
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const xmlError = (code: string, message: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`;

function store(opts: { region?: string; maxAttempts?: number } = {}) {
  seen.length = 0;
  return createS3Store({
    bucket: 'fixed',
    endpoint,
    region: opts.region ?? 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: opts.maxAttempts ?? 3,
  });
}

/** HEAD (the bucket check) succeeds; every other request gets `other`. */
const bucketOk = (other: Handler): Handler => (req, n) => (req.method === 'HEAD' ? { status: 200 } : other(req, n));

describe('decodeListedKey', () => {
  it('decodes AWS form-style encoding (+ is a space) and percent escapes', () => {
    // the pairs AWS answers under encoding-type=url
    expect(decodeListedKey('a+b.txt')).toBe('a b.txt');
    expect(decodeListedKey('a%2Bb.txt')).toBe('a+b.txt');
    expect(decodeListedKey('100%25.csv')).toBe('100%.csv');
    expect(decodeListedKey('%ED%95%9C%EA%B8%80/x.txt')).toBe('한글/x.txt');
    expect(decodeListedKey('ctl%01x')).toBe('ctl\u0001x');
    // Swift's quote(): %20 for a space, never a bare +
    expect(decodeListedKey('a%20b%2Bc')).toBe('a b+c');
    expect(() => decodeListedKey('bad%E0%A4%A')).toThrow(URIError);
  });
});

describe('listing with EncodingType=url', () => {
  const listing = (encoding: boolean, keys: string[]) =>
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>fixed</Name><Prefix>p/</Prefix><KeyCount>${keys.length}</KeyCount>` +
    `<MaxKeys>1000</MaxKeys>${encoding ? '<EncodingType>url</EncodingType>' : ''}<IsTruncated>false</IsTruncated>` +
    keys.map((k) => `<Contents><Key>${k}</Key><Size>1</Size></Contents>`).join('') +
    '</ListBucketResult>';

  it('asks for URL encoding, and decodes the keys when the server says it encoded them (AWS style)', async () => {
    const s = store();
    handler = bucketOk(() => ({ status: 200, body: listing(true, ['p/a+b.txt', 'p/a%2Bb.txt', 'p/100%25', 'p/ctl%01x']) }));
    try {
      expect(await s.list('p/')).toEqual(['p/100%', 'p/a b.txt', 'p/a+b.txt', 'p/ctl\u0001x'].sort());
      expect(seen.find((r) => r.method === 'GET')?.url).toContain('encoding-type=url');
    } finally {
      await s.close();
    }
  });

  it('keeps the keys as sent when the server ignored the request (no EncodingType in the answer)', async () => {
    const s = store();
    handler = bucketOk(() => ({ status: 200, body: listing(false, ['p/a+b', 'p/100%25']) }));
    try {
      expect(await s.list('p/')).toEqual(['p/100%25', 'p/a+b']);
    } finally {
      await s.close();
    }
  });

  it('a key that is not valid URL encoding is an Unexpected error naming it', async () => {
    const s = store();
    handler = bucketOk(() => ({ status: 200, body: listing(true, ['p/bad%E0%A4%A']) }));
    try {
      const err = await storeErrorOf(s.list('p/'));
      expect(err.kind).toBe('Unexpected');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('"p/bad%E0%A4%A"');
    } finally {
      await s.close();
    }
  });
});

describe('a bucket check (HEAD, no body) that fails', () => {
  it('400: the follow-up listing gives the server\'s code and message, reported as ConfigInvalid with the region', async () => {
    const s = store({ region: 'eu-west-1' });
    handler = (req) =>
      req.method === 'HEAD'
        ? { status: 400 }
        : {
            status: 400,
            body: xmlError('AuthorizationHeaderMalformed', "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'"),
          };
    try {
      const err = await storeErrorOf(s.get('k'));
      expect(err.kind).toBe('ConfigInvalid');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('get("k")');
      expect(err.message).toContain("HTTP 400 AuthorizationHeaderMalformed: The authorization header is malformed; the region 'eu-west-1' is wrong");
      expect(err.message).toContain('this store signs requests for "eu-west-1"');
      expect(seen.map((r) => r.method)).toEqual(['HEAD', 'GET']);
      expect(seen[1]!.url).toContain('max-keys=1');
    } finally {
      await s.close();
    }
  });

  it('403: PermissionDenied with the server\'s code', async () => {
    const s = store();
    handler = (req) =>
      req.method === 'HEAD' ? { status: 403 } : { status: 403, body: xmlError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.') };
    try {
      const err = await storeErrorOf(s.ensureBucket());
      expect(err.kind).toBe('PermissionDenied');
      expect(err.message).toContain('HTTP 403 InvalidAccessKeyId: The AWS Access Key Id you provided does not exist');
      expect(err.message).toContain('check the credentials');
    } finally {
      await s.close();
    }
  });

  it('301 with x-amz-bucket-region and a bodiless follow-up: ConfigInvalid naming both regions', async () => {
    const s = store({ region: 'us-east-1' });
    handler = () => ({ status: 301, headers: { 'x-amz-bucket-region': 'ap-southeast-2' } });
    try {
      const err = await storeErrorOf(s.ensureBucket());
      expect(err.kind).toBe('ConfigInvalid');
      expect(err.message).toContain('HEAD bucket answered HTTP 301 without a body: the bucket is in another region');
      expect(err.message).toContain('the server names region "ap-southeast-2"');
      expect(err.message).toContain('this store signs requests for "us-east-1"');
    } finally {
      await s.close();
    }
  });

  it('400 and 403 without any body: mapped by status, naming the region or the credentials to check', async () => {
    for (const [status, kind, words] of [
      [400, 'ConfigInvalid', 'most often a region mismatch'],
      [403, 'PermissionDenied', 'check the credentials (access key id and secret) and that they may list bucket "fixed"'],
    ] as const) {
      const s = store();
      handler = () => ({ status });
      try {
        const err = await storeErrorOf(s.ensureBucket());
        expect(err.kind).toBe(kind);
        expect(err.retryable).toBe(false);
        expect(err.message).toContain(`HEAD bucket answered HTTP ${status} without a body`);
        expect(err.message).toContain(words);
      } finally {
        await s.close();
      }
    }
  });

  it('a follow-up listing that succeeds means the bucket answers: the check passes', async () => {
    const s = store();
    handler = (req) =>
      req.method === 'HEAD'
        ? { status: 403 }
        : { status: 200, body: '<?xml version="1.0"?><ListBucketResult><Name>fixed</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>' };
    try {
      await s.ensureBucket();
    } finally {
      await s.close();
    }
  });
});

describe('server errors: permanent or transient', () => {
  it('the same 500 with a reason twice is Unexpected, not retryable, and not tried a third time', async () => {
    const s = store({ maxAttempts: 3 });
    handler = bucketOk(() => ({
      status: 500,
      body: xmlError('InternalError', 'We encountered an internal error. Please try again.', '<Reason>All strings must be XML compatible</Reason>'),
    }));
    try {
      const err = await storeErrorOf(s.list('p/'));
      expect(err.kind).toBe('Unexpected');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('HTTP 500 InternalError: We encountered an internal error. Please try again. (All strings must be XML compatible)');
      expect(err.message).toContain('the same answer to all 2 attempts');
      expect(seen.filter((r) => r.method === 'GET')).toHaveLength(2); // maxAttempts 3, stopped after 2
    } finally {
      await s.close();
    }
  });

  it("S3's generic 500 stays Unavailable and retryable (AWS documents it as transient)", async () => {
    const s = store({ maxAttempts: 2 });
    handler = bucketOk(() => ({ status: 500, body: xmlError('InternalError', 'We encountered an internal error. Please try again.') }));
    try {
      const err = await storeErrorOf(s.get('k'));
      expect(err.kind).toBe('Unavailable');
      expect(err.retryable).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('a 500 whose reason changes between attempts stays retryable; so does a single attempt', async () => {
    const s = store({ maxAttempts: 3 });
    handler = bucketOk((_req, n) => ({ status: 500, body: xmlError('InternalError', 'boom', `<Reason>attempt ${n}</Reason>`) }));
    try {
      const err = await storeErrorOf(s.get('k'));
      expect(err.kind).toBe('Unavailable');
      expect(err.retryable).toBe(true);
      expect(seen.filter((r) => r.method === 'GET')).toHaveLength(3); // every attempt made
    } finally {
      await s.close();
    }
    const once = store({ maxAttempts: 1 });
    handler = bucketOk(() => ({ status: 500, body: xmlError('InternalError', 'disk on fire', '<Reason>same</Reason>') }));
    try {
      const err = await storeErrorOf(once.get('k'));
      expect(err.retryable).toBe(true);
    } finally {
      await once.close();
    }
  });

  it('the rule itself', () => {
    const a = { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.', reason: 'x' };
    expect(isPermanentServerError([a, a])).toBe(true);
    expect(isPermanentServerError([a])).toBe(false);
    expect(isPermanentServerError([a, { ...a, reason: 'y' }])).toBe(false);
    expect(isPermanentServerError([{ ...a, status: 503 }, { ...a, status: 503 }])).toBe(false);
    const generic = { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
    expect(isPermanentServerError([generic, generic, generic])).toBe(false);
    const specific = { status: 500, code: 'InternalError', message: 'database is locked' };
    expect(isPermanentServerError([specific, specific])).toBe(true);
    const bodiless = { status: 500, code: 'Unknown', message: 'UnknownError' };
    expect(isPermanentServerError([bodiless, bodiless])).toBe(false);
  });
});
