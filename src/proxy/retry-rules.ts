// When the proxy sends a request to the daemon again: only if the request can be replayed (no
// body, or a body it buffered), and only for failures that say "busy" or "never delivered".
import { isTransientMessage } from "../engine/classify.js";

export type UpstreamFailure =
  | { kind: "connection"; code: string | undefined; reusedSocket: boolean }
  | { kind: "status"; status: number; message: string };

export interface RetryQuestion {
  /** The attempt that just failed, from 1. */
  attempt: number;
  maxAttempts: number;
  idempotent: boolean;
  replayable: boolean;
  failure: UpstreamFailure;
}

export function shouldRetry(q: RetryQuestion): boolean {
  if (!q.replayable || q.attempt >= q.maxAttempts) return false;
  const f = q.failure;
  if (f.kind === "status") return q.idempotent && isTransientMessage(f.status, f.message);
  // Refused: nothing reached the daemon. A reused keep-alive socket that the daemon had already
  // closed fails before the request is read. Both are safe to repeat, even for a create.
  if (f.code === "ECONNREFUSED" || (f.reusedSocket && f.code === "ECONNRESET")) return true;
  return q.idempotent && (f.code === "ECONNRESET" || f.code === "EPIPE");
}

/** Exponential backoff with full jitter: a random delay up to base * 2^(attempt-1), capped. */
export function backoffMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 50,
  capMs = 1000,
): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** (attempt - 1)));
}

/** Status answers worth reading in full to decide about a retry: small error bodies. */
export function mayBeTransient(status: number): boolean {
  return status === 409 || status === 500 || status === 503;
}
