/** The one redaction function every error message passes through (src/util/redact.ts). */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, QuorumError, StoreError, describeCause } from '../../src/errors.js';
import { REDACTED, redact, redactErrorInPlace, registerSecret } from '../../src/util/redact.js';

const S = 'Sup3rSecretValue/With+Base64=';

/** Each case: text holding the secret part `secret`, and what must survive redaction. */
const CASES: { name: string; text: string; secret: string; keeps: string[] }[] = [
  {
    name: 'URL user info with a password',
    text: 'connect failed: http://alice:hunter2pw@127.0.0.1:9000/bucket?x=1',
    secret: 'hunter2pw',
    keeps: ['http://alice:***@127.0.0.1:9000/bucket?x=1'],
  },
  {
    name: 'URL user info that is a bare token',
    text: 'GET https://ghp_tokenAbc123@example.com/repo',
    secret: 'ghp_tokenAbc123',
    keeps: ['https://***@example.com/repo'],
  },
  {
    name: 'a password holding @ and :',
    text: 'endpoint "https://bob:p@ss:w0rd@host.example:443/" refused',
    secret: 'p@ss:w0rd',
    keeps: ['https://bob:***@host.example:443/'],
  },
  {
    name: 'a malformed URL whose password holds a slash',
    text: 'bad endpoint http://bob:pa/ss@host:1/b',
    secret: 'pa/ss',
    keeps: ['http://bob:***@host:1/b'],
  },
  {
    name: 'an Azure connection string',
    text: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${S};EndpointSuffix=core.windows.net`,
    secret: S,
    keeps: ['AccountName=acct', 'AccountKey=***;', 'EndpointSuffix=core.windows.net'],
  },
  {
    name: 'a SAS connection string',
    text: 'BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=2020-08-04&ss=b&sig=AbC%2Fdef%3D',
    secret: 'AbC%2Fdef%3D',
    keeps: ['BlobEndpoint=https://acct.blob.core.windows.net/', 'SharedAccessSignature=***'],
  },
  {
    name: 'a SAS token in a URL',
    text: 'PUT https://acct.blob.core.windows.net/c/k?sv=2020-08-04&se=2030-01-01&sp=rw&sig=XyZ%2B12345%3D&spr=https',
    secret: 'XyZ%2B12345%3D',
    keeps: ['sv=2020-08-04', 'se=2030-01-01', 'sig=***', 'spr=https'],
  },
  {
    name: 'an S3 presigned URL',
    text: 'https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAEXAMPLE%2F20250101&X-Amz-Security-Token=FQoGZXIvYXdzEtoken&X-Amz-Signature=0123abcd',
    secret: 'FQoGZXIvYXdzEtoken',
    keeps: ['X-Amz-Credential=AKIAEXAMPLE', 'X-Amz-Security-Token=***', 'X-Amz-Signature=***'],
  },
  {
    name: 'AWS credentials in INI form',
    text: '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n',
    secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    keeps: ['aws_access_key_id = AKIAEXAMPLE', 'aws_secret_access_key = ***'],
  },
  {
    name: 'AWS credentials as an inspected object',
    text: "{ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG', sessionToken: 'IQoJb3JpZ2luX2VjEtoken' }",
    secret: 'wJalrXUtnFEMI/K7MDENG',
    keeps: ["accessKeyId: 'AKIAEXAMPLE'", "secretAccessKey: '***'", "sessionToken: '***'"],
  },
  {
    name: 'AWS credentials as environment assignments',
    text: 'AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIenv AWS_REGION=eu-west-1',
    secret: 'wJalrXUtnFEMIenv',
    keeps: ['AWS_ACCESS_KEY_ID=AKIAEXAMPLE', 'AWS_SECRET_ACCESS_KEY=***', 'AWS_REGION=eu-west-1'],
  },
  {
    name: 'an AWS Signature V4 Authorization header',
    text: 'Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024',
    secret: 'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024',
    keeps: ['Credential=AKIAEXAMPLE/20250101/us-east-1/s3/aws4_request', 'SignedHeaders=host', 'Signature=***'],
  },
  {
    name: 'a bearer token',
    text: 'request failed (Authorization: Bearer ya29.a0AfH6SMBx-token_value.more)',
    secret: 'ya29.a0AfH6SMBx-token_value.more',
    keeps: ['Bearer ***)'],
  },
  {
    name: 'an Azure SharedKey header',
    text: 'Authorization: SharedKey devstoreaccount1:aGVsbG8gd29ybGQgc2lnbmF0dXJl=',
    secret: 'aGVsbG8gd29ybGQgc2lnbmF0dXJl',
    keeps: ['SharedKey devstoreaccount1:***'],
  },
  {
    name: 'a service-account key file',
    text:
      '{"type":"service_account","project_id":"p","private_key_id":"abc123def456",' +
      '"private_key":"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n",' +
      '"client_email":"sa@p.iam.gserviceaccount.com","client_secret":"cs-Value-123"}',
    secret: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
    keeps: ['"project_id":"p"', '"private_key":"***"', '"private_key_id":"***"', '"client_secret":"***"', 'sa@p.iam.gserviceaccount.com'],
  },
  {
    name: 'a PEM private key on its own',
    text: 'could not parse\n-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\nend',
    secret: 'MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu',
    keeps: ['could not parse', '-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----', 'end'],
  },
  {
    name: 'a token in a query string',
    text: 'GET /oauth?client_id=abc&access_token=tok-9999-zzzz&refresh_token=ref-8888 HTTP/1.1',
    secret: 'tok-9999-zzzz',
    keeps: ['client_id=abc', 'access_token=***', 'refresh_token=***'],
  },
];

describe('redact', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  for (const c of CASES) {
    it(`masks ${c.name}`, () => {
      const out = redact(c.text);
      expect(out).not.toContain(c.secret);
      for (const keep of c.keeps) expect(out, out).toContain(keep);
      expect(redact(out), 'redaction is idempotent').toBe(out);
    });
  }

  it('leaves text without secrets unchanged, store error messages included', () => {
    const plain = [
      'Unavailable: put("users/42") on store robust(s3:a,azure:b,gcs:c) failed: needed 2 replies, got 1',
      'Timeout: get("a/b?c#d") on store latency(memory) failed: aborted by the caller',
      'HTTP 404 NoSuchKey: The specified key does not exist.',
      'connect ECONNREFUSED 127.0.0.1:9000 (endpoint http://127.0.0.1:9000/bucket)',
      'key: put(key, value) on store memory needs a string key, got the number 123; pass the key as a string, e.g. "123"',
      's3.endpoint: "http://127.0.0.1:9000" is not a URL',
      'the server said the listing is truncated but sent no continuation token',
      'https://[::1]:9000/path/with@sign',
      '',
    ];
    for (const t of plain) expect(redact(t)).toBe(t);
  });

  it('masks the values of secret environment variables wherever they appear', () => {
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'envSecretValue42');
    vi.stubEnv('AZURE_STORAGE_KEY', 'azureKeyFromEnv==');
    const out = redact('signing with envSecretValue42 failed; key azureKeyFromEnv== rejected');
    expect(out).toBe(`signing with ${REDACTED} failed; key ${REDACTED} rejected`);
  });

  it('masks registered secrets wherever they appear, and ignores short ones', () => {
    registerSecret('registered-secret-0001', 'short', undefined, 42);
    expect(redact('x registered-secret-0001 y')).toBe(`x ${REDACTED} y`);
    expect(redact('a short word')).toBe('a short word');
  });

  it('redacts error messages and stacks along the cause chain, in place', () => {
    const inner = new Error('GET http://u:deepSecret1@h/ failed');
    const outer = new Error('wrapped: token=deepSecret2', { cause: inner });
    const agg = new AggregateError([outer, new Error('AccountKey=deepSecret3;')], 'many');
    redactErrorInPlace(agg);
    const all = inspect(agg, { depth: 10 });
    for (const s of ['deepSecret1', 'deepSecret2', 'deepSecret3']) expect(all).not.toContain(s);
    expect(inner.message).toBe('GET http://u:***@h/ failed');
  });

  it('every error class of the library redacts its message and its cause', () => {
    const cause = new Error('SDK said: http://admin:causeSecret@127.0.0.1:1/b unreachable');
    const errors = [
      new StoreError({ kind: 'Unavailable', store: 's3:b', op: 'get', key: 'k', cause }),
      new StoreError({ kind: 'Unexpected', store: 's3:b', op: 'put', key: 'k', detail: 'AccountKey=detailSecret;' }),
      new QuorumError({
        store: 'robust(a,b,c)',
        op: 'get',
        key: 'k',
        needed: 2,
        received: 0,
        failures: [
          { replica: 'a', error: new Error('Bearer quorumSecretToken') },
          { replica: 'b', error: 'http://x:quorumSecret2@h' },
        ],
      }),
      new ConfigError('s3.endpoint', '"http://u:configSecret@h" is bad', { cause: new Error('password=configCause') }),
    ];
    for (const e of errors) {
      const text = `${e.message}\n${e.stack}\n${inspect(e, { depth: 10 })}`;
      for (const s of ['causeSecret', 'detailSecret', 'quorumSecretToken', 'quorumSecret2', 'configSecret', 'configCause']) {
        expect(text, `${e.name} leaks ${s}`).not.toContain(s);
      }
    }
    expect(describeCause(new Error('http://u:p4ssw0rd@h/'))).toBe('http://u:***@h/');
    expect(describeCause('sig=abcdef')).toBe('sig=***');
  });
});

describe('redact keeps messages that name secret fields', () => {
  it('`field: explanation` is not a secret, `field: <token>` is', () => {
    const keep = [
      'configurations.a.replicas[0].credentials.secretAccessKey: inline secrets are not allowed; use secretAccessKeyEnv',
      'azure.accountKey: account "acct" needs accountKey or sasToken (or AZURE_STORAGE_KEY / AZURE_STORAGE_SAS_TOKEN)',
      'token: none was sent',
    ];
    for (const t of keep) expect(redact(t)).toBe(t);
    expect(redact('x-amz-security-token: IQoJb3JpZ2luX2Vj1234')).toBe('x-amz-security-token: ***');
    expect(redact('secretAccessKey: wJalrXUtnFEMI/K7MDENG')).toBe('secretAccessKey: ***');
    expect(new ConfigError('azure.accountKey', 'account "acct" needs accountKey or sasToken').message).toBe(
      'azure.accountKey: account "acct" needs accountKey or sasToken',
    );
  });
});
