// Buffers the small JSON bodies of spec-carrying requests (create, exec, network and volume
// specs) up to a cap, so the policy can read them and a retry can replay them. Streamed bodies
// (builds, archives, image loads) are never buffered; refused ones are drained and dropped.
import type { IncomingMessage } from "node:http";

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: "too-large" | "aborted" };

export function declaredLength(req: IncomingMessage): number | undefined {
  const raw = req.headers["content-length"];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** True when the request carries no body at all, so it can be sent again as it is. */
export function hasNoBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] === undefined && (declaredLength(req) ?? 0) === 0;
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > maxBytes)
    return Promise.resolve({ ok: false, reason: "too-large" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        resolve({ ok: false, reason: "too-large" });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve({ ok: true, body: Buffer.concat(chunks, size) });
    };
    const onAbort = () => {
      cleanup();
      resolve({ ok: false, reason: "aborted" });
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onClose);
    };
    const onClose = () => {
      if (!req.complete) onAbort();
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onClose);
  });
}

/**
 * Reads and drops a body the proxy refuses, up to `maxBytes`, so the client finishes sending and
 * then reads the answer (answering early makes clients fail with a broken pipe instead).
 * Answers false when the body was larger: the connection must then be closed.
 */
export async function discardBody(req: IncomingMessage, maxBytes: number): Promise<boolean> {
  if (hasNoBody(req) || req.complete) return true;
  const declared = declaredLength(req);
  if (declared !== undefined && declared > maxBytes) return false;
  const read = await readBody(req, maxBytes);
  return read.ok;
}
