/**
 * One HTTP exchange through a {@link BoundedAgents} pool: the request (with its body) out, the whole
 * response body in. Bounded by the pool's connect, first-byte and idle limits, and abortable: when
 * `signal` fires the socket is destroyed at once and the promise rejects with the signal's reason.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { BoundedAgents } from './bounded-agent.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The body ended before its announced length (a connection cut mid-answer). `code` `ECONNRESET`. */
export class TruncatedBodyError extends Error {
  readonly code = 'ECONNRESET';
  constructor(received: number, expected: number) {
    super(`the response body ended after ${received} of ${expected} bytes`);
    this.name = 'TruncatedBodyError';
  }
}

/** Sends one request and reads the whole answer. Rejects with the Node error (or the signal's reason). */
export function httpRequest(agents: BoundedAgents, r: HttpRequest): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const signal = r.signal;
    if (signal?.aborted) return reject(signal.reason);
    const send = r.url.protocol === 'https:' ? https.request : http.request;
    const headers: Record<string, string> = { ...r.headers };
    if (r.body !== undefined) headers['content-length'] = String(r.body.byteLength);
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      reject(e);
    };
    const onAbort = () => fail(signal?.reason);
    const req = send(r.url, { method: r.method, headers, agent: agents.for(r.url) }, (res) => {
      const length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.byteLength;
      });
      res.once('error', fail);
      res.once('end', () => {
        if (settled) return;
        if (length !== undefined && Number.isFinite(length) && size !== length) return fail(new TruncatedBodyError(size, length));
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
      });
      // a socket destroyed mid-body closes the response without 'end'
      res.once('close', () => {
        if (!res.complete) fail(new TruncatedBodyError(size, length ?? size));
      });
    });
    req.once('error', fail);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (r.body !== undefined && r.body.byteLength > 0) {
      req.end(Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength));
    } else {
      req.end();
    }
  });
}
