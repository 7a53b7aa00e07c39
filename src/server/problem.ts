/**
 * Errors on the wire: `application/problem+json` (RFC 9457) with `code` = the error kind
 * and the same fields as the CLI's `--json` error, so the client rebuilds the same error.
 */
import type { ServerResponse } from 'node:http';
import { BerthError, HTTP_STATUS, UnexpectedError } from '../errors.js';

/** An HTTP-layer refusal (no token, a foreign Host, ...): a kind of its own and a status. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The problem document for `error`, and its status. */
export function problemOf(error: unknown): { status: number; body: Record<string, unknown>; headers: Readonly<Record<string, string>> } {
  if (error instanceof HttpProblem) {
    return { status: error.status, body: { type: 'about:blank', title: error.code, status: error.status, detail: error.message, code: error.code, message: error.message }, headers: error.headers };
  }
  const berth = error instanceof BerthError ? error : new UnexpectedError(`unexpected error: ${error instanceof Error ? error.message : String(error)}. See the daemon's log.`);
  const status = HTTP_STATUS[berth.kind] ?? 500;
  const json = berth.toJSON();
  return { status, body: { type: 'about:blank', title: berth.kind, status, detail: berth.message, code: berth.kind, ...json }, headers: {} };
}

/** Sends `error` as problem+json. */
export function sendProblem(res: ServerResponse, error: unknown): void {
  const { status, body, headers } = problemOf(error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Headers on every answer: nothing the API returns is to be framed, sniffed, cached, run
 * as a page (the dashboard's own files set their CSP over this one) or embedded by another
 * origin. A page on another localhost port is same-site, so its requests carry the
 * dashboard's SameSite=Strict cookie; CORP keeps it from embedding the answers.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};
