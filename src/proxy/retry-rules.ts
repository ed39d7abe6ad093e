// Which failed requests the proxy may send to the daemon again: only if the request can be
// replayed (no body, or a body it buffered), and only for failures that say "busy" or "never
// delivered". How often and how long apart is the guard's retry policy (guard/dispatch.ts).
import { isTransientMessage } from "../engine/classify.js";

export type UpstreamFailure =
  | { kind: "connection"; code: string | undefined; reusedSocket: boolean }
  | { kind: "status"; status: number; message: string };

export interface RetryQuestion {
  idempotent: boolean;
  replayable: boolean;
  failure: UpstreamFailure;
}

export function shouldRetry(q: RetryQuestion): boolean {
  if (!q.replayable) return false;
  const f = q.failure;
  if (f.kind === "status") return q.idempotent && isTransientMessage(f.status, f.message);
  // Refused: nothing reached the daemon. A reused keep-alive socket that the daemon had already
  // closed fails before the request is read. Both are safe to repeat, even for a create.
  if (f.code === "ECONNREFUSED" || (f.reusedSocket && f.code === "ECONNRESET")) return true;
  return q.idempotent && (f.code === "ECONNRESET" || f.code === "EPIPE");
}

/** Status answers worth reading in full to decide about a retry: small error bodies. */
export function mayBeTransient(status: number): boolean {
  return status === 409 || status === 500 || status === 503;
}
