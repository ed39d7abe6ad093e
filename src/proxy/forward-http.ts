// Relays one ordinary (not upgraded) request to the daemon through the limiter, streaming bodies
// both ways, and sends it again on transient failures when it can be replayed.
import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from "node:http";
import { apiMessageOf } from "../engine/classify.js";
import { OPERATIONS } from "../engine/operations.js";
import { type DispatchAttempt, guardedDispatch, RETRY } from "../guard/dispatch.js";
import type { PermitSample } from "../guard/limiter.js";
import { sampleOutcomeForStatus } from "../guard/retry.js";
import type { ClassifiedRequest } from "./classify-request.js";
import { endToEndHeaders, sendError } from "./http-messages.js";
import type { ProxyContext } from "./proxy-context.js";
import { hasNoBody } from "./request-body.js";
import { mayBeTransient, shouldRetry, type UpstreamFailure } from "./retry-rules.js";

const CONTENT_LENGTH = new Set(["content-length"]);
/** Error answers are small JSON; a larger one is relayed without being read for a retry. */
const MAX_ERROR_BODY = 64 * 1024;

type Exchange =
  | { kind: "response"; upstream: IncomingMessage }
  | { kind: "failure"; code: string | undefined; reusedSocket: boolean; message: string };

export interface ForwardResult {
  status: number;
  queuedMs: number;
  latencyMs: number | undefined;
  attempts: number;
  bytesIn: number;
  bytesOut: number;
  note?: string;
}

function idempotent(operation: string, method: string): boolean {
  const spec = (OPERATIONS as Record<string, { idempotent: boolean } | undefined>)[operation];
  return spec ? spec.idempotent : method === "GET" || method === "HEAD";
}

function upstreamHeaders(req: IncomingMessage, body: Buffer | undefined): string[] {
  const headers = endToEndHeaders(req.rawHeaders, body ? CONTENT_LENGTH : undefined);
  if (body) headers.push("Content-Length", String(body.length));
  // HTTP/1.1 requires Host, and the daemon refuses requests without it.
  if (req.headers.host === undefined) headers.push("Host", "docker");
  return headers;
}

function send(
  ctx: ProxyContext,
  req: IncomingMessage,
  body: Buffer | undefined,
  counted: { bytesIn: number },
): { upstreamReq: ClientRequest; exchange: Promise<Exchange> } {
  const upstreamReq = request({
    ...ctx.upstream.requestOptions(),
    method: req.method,
    path: req.url,
    headers: upstreamHeaders(req, body),
  });
  const exchange = new Promise<Exchange>((resolve) => {
    upstreamReq.once("response", (upstream) => resolve({ kind: "response", upstream }));
    upstreamReq.once("error", (error: NodeJS.ErrnoException) =>
      resolve({
        kind: "failure",
        code: error.code,
        reusedSocket: upstreamReq.reusedSocket,
        message: error.message,
      }),
    );
  });
  if (body) {
    counted.bytesIn += body.length;
    upstreamReq.end(body);
  } else if (hasNoBody(req)) {
    upstreamReq.end();
  } else {
    req.on("data", (chunk: Buffer) => {
      counted.bytesIn += chunk.length;
    });
    req.pipe(upstreamReq);
  }
  return { upstreamReq, exchange };
}

function readSmall(upstream: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    upstream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
    });
    upstream.on("end", () => resolve(Buffer.concat(chunks, size)));
    upstream.on("error", () => resolve(undefined));
    upstream.on("aborted", () => resolve(undefined));
  });
}

/** One forwarded request across its attempts: what the client sent and what was counted. */
interface Forward {
  ctx: ProxyContext;
  req: IncomingMessage;
  res: ServerResponse;
  classified: ClassifiedRequest;
  body: Buffer | undefined;
  /** No body, or a body the proxy buffered: the request can be sent again. */
  replayable: boolean;
  idempotent: boolean;
  counted: { bytesIn: number; bytesOut: number };
  clientGone: AbortController;
  queuedMs: number;
  attempts: number;
}

/** A held limiter slot: released once, with the daemon-side latency for the metrics. */
type ReleaseSlot = (sample: Omit<PermitSample, "operation">, latencyMs: number | undefined) => void;

/**
 * Forwards `req` and answers `res`. `body` is the buffered request body when the proxy read it
 * (spec-carrying requests), else the client's body is streamed through as it arrives. Each
 * attempt holds a limiter slot; the guard's retry policy says how often and how long apart.
 */
export async function forwardHttp(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  classified: ClassifiedRequest,
  body: Buffer | undefined,
): Promise<ForwardResult> {
  const fwd = beginForward(ctx, req, res, classified, body);
  try {
    return await guardedDispatch(
      ctx.dispatch,
      { class: classified.class, operation: classified.operation, signal: fwd.clientGone.signal },
      (attempt) => forwardOnce(fwd, attempt),
    );
  } catch (error) {
    // The client left while the request waited for a slot or for a retry.
    if (!fwd.clientGone.signal.aborted) throw error;
    ctx.metrics.clientAborted();
    return resultOf(fwd, 499, undefined, "client left");
  }
}

function beginForward(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  classified: ClassifiedRequest,
  body: Buffer | undefined,
): Forward {
  const clientGone = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) clientGone.abort();
  });
  return {
    ctx,
    req,
    res,
    classified,
    body,
    replayable: body !== undefined || hasNoBody(req),
    idempotent: idempotent(classified.operation, req.method ?? "GET"),
    counted: { bytesIn: 0, bytesOut: 0 },
    clientGone,
    queuedMs: 0,
    attempts: 0,
  };
}

function resultOf(fwd: Forward, status: number, latencyMs: number | undefined, note?: string): ForwardResult {
  return {
    status,
    queuedMs: fwd.queuedMs,
    latencyMs,
    attempts: fwd.attempts,
    ...fwd.counted,
    ...(note ? { note } : {}),
  };
}

/** Whether the proxy's replay rules and the guard's policy both allow sending `failure` again. */
function retryable(fwd: Forward, attempt: DispatchAttempt, failure: UpstreamFailure): boolean {
  if (!shouldRetry({ idempotent: fwd.idempotent, replayable: fwd.replayable, failure })) return false;
  return attempt.mayRetry();
}

/** One attempt: send, then handle a broken connection, a retryable error answer, or relay. */
async function forwardOnce(fwd: Forward, attempt: DispatchAttempt): Promise<ForwardResult | typeof RETRY> {
  const { ctx, classified, clientGone } = fwd;
  const { permit } = attempt;
  fwd.attempts = attempt.number;
  fwd.queuedMs += permit.queuedMs;
  ctx.metrics.dispatched(classified.class, permit.queuedMs);
  const t0 = performance.now();
  let released = false;
  const release: ReleaseSlot = (sample, latencyMs) => {
    if (released) return;
    released = true;
    permit.release({ ...sample, operation: classified.operation });
    ctx.metrics.finished(classified.class, latencyMs);
  };

  const { upstreamReq, exchange } = send(ctx, fwd.req, fwd.body, fwd.counted);
  const onClientGone = () => upstreamReq.destroy();
  clientGone.signal.addEventListener("abort", onClientGone, { once: true });
  const outcome = await exchange;
  if (outcome.kind === "failure") {
    release(
      { latencyMs: performance.now() - t0, outcome: clientGone.signal.aborted ? "dropped" : "error" },
      undefined,
    );
    clientGone.signal.removeEventListener("abort", onClientGone);
    return connectionFailed(fwd, attempt, outcome);
  }
  const upstream = outcome.upstream;
  const buffered = await readErrorAnswer(fwd, upstream);
  if (buffered && retryable(fwd, attempt, statusFailure(upstream, buffered))) {
    const latencyMs = performance.now() - t0;
    release({ latencyMs, outcome: sampleOutcomeForStatus(upstream.statusCode ?? 502) }, latencyMs);
    clientGone.signal.removeEventListener("abort", onClientGone);
    ctx.metrics.retried();
    return RETRY;
  }
  const result = await relayAnswer(fwd, upstreamReq, upstream, buffered, { t0, release });
  clientGone.signal.removeEventListener("abort", onClientGone);
  return result;
}

/** The connection failed: the client left, the request goes again, or the client gets a 502. */
function connectionFailed(
  fwd: Forward,
  attempt: DispatchAttempt,
  outcome: Extract<Exchange, { kind: "failure" }>,
): ForwardResult | typeof RETRY {
  const { ctx } = fwd;
  if (fwd.clientGone.signal.aborted) {
    ctx.metrics.clientAborted();
    return resultOf(fwd, 499, undefined, "client left");
  }
  const failure: UpstreamFailure = {
    kind: "connection",
    code: outcome.code,
    reusedSocket: outcome.reusedSocket,
  };
  if (retryable(fwd, attempt, failure)) {
    ctx.metrics.retried();
    return RETRY;
  }
  ctx.metrics.upstreamFailed();
  const message = `berth proxy: cannot reach the Docker daemon at ${ctx.upstream.endpoint.url} (${ctx.upstream.endpoint.source}: ${outcome.code ?? outcome.message})`;
  sendError(fwd.res, 502, message);
  return resultOf(fwd, 502, undefined, message);
}

/** A small error answer that may say "busy", read in full to decide about a retry. */
async function readErrorAnswer(fwd: Forward, upstream: IncomingMessage): Promise<Buffer | undefined> {
  const status = upstream.statusCode ?? 502;
  const declared = Number(upstream.headers["content-length"] ?? Number.NaN);
  const small =
    mayBeTransient(status) &&
    fwd.classified.class !== "stream" &&
    fwd.replayable &&
    declared <= MAX_ERROR_BODY;
  return small ? readSmall(upstream) : undefined;
}

function statusFailure(upstream: IncomingMessage, buffered: Buffer): UpstreamFailure {
  const message = apiMessageOf({ json: buffered.toString("utf8") }) ?? "";
  return { kind: "status", status: upstream.statusCode ?? 502, message };
}

/** Relays the daemon's answer (already read, or streamed through) and releases the slot at its end. */
async function relayAnswer(
  fwd: Forward,
  upstreamReq: ClientRequest,
  upstream: IncomingMessage,
  buffered: Buffer | undefined,
  { t0, release }: { t0: number; release: ReleaseSlot },
): Promise<ForwardResult> {
  const { ctx, res, counted } = fwd;
  const cls = fwd.classified.class;
  const status = upstream.statusCode ?? 502;
  const headersAt = performance.now() - t0;
  ctx.metrics.status(status);
  res.writeHead(status, upstream.statusMessage, endToEndHeaders(upstream.rawHeaders));
  // 4xx answers are about the request, not the daemon's load; streams are never latency samples.
  const sampleOutcome = cls === "stream" ? "dropped" : sampleOutcomeForStatus(status);
  if (buffered) {
    counted.bytesOut += buffered.length;
    res.end(buffered);
    release({ latencyMs: performance.now() - t0, outcome: sampleOutcome }, performance.now() - t0);
    return resultOf(fwd, status, performance.now() - t0);
  }
  // Streams: the client must see the head now (`docker events`, `logs -f`, `wait` block on it).
  if (cls === "stream") res.flushHeaders();
  upstream.on("data", (chunk: Buffer) => {
    counted.bytesOut += chunk.length;
  });
  upstream.pipe(res);
  const ended = await new Promise<"ok" | "upstream-failed" | "client-left">((resolve) => {
    upstream.once("end", () => resolve("ok"));
    upstream.once("error", () => resolve("upstream-failed"));
    upstream.once("aborted", () => resolve("upstream-failed"));
    res.once("close", () => resolve(res.writableFinished ? "ok" : "client-left"));
  });
  const total = performance.now() - t0;
  const latencyMs = cls === "stream" ? headersAt : total;
  if (ended === "upstream-failed") {
    ctx.metrics.upstreamFailed();
    res.destroy();
    release({ latencyMs, outcome: "error" }, latencyMs);
    return resultOf(fwd, status, latencyMs, "daemon cut the response");
  }
  if (ended === "client-left") {
    upstreamReq.destroy();
    // A client closing a stream it followed is how streams end, not a failure.
    if (cls !== "stream") ctx.metrics.clientAborted();
    release({ latencyMs, outcome: "dropped" }, latencyMs);
    return resultOf(fwd, status, latencyMs);
  }
  release({ latencyMs, outcome: sampleOutcome }, latencyMs);
  return resultOf(fwd, status, latencyMs);
}
