// Relays one ordinary (not upgraded) request to the daemon through the limiter, streaming bodies
// both ways, and sends it again on transient failures when it can be replayed.
import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from "node:http";
import { apiMessageOf } from "../engine/classify.js";
import { OPERATIONS } from "../engine/operations.js";
import type { Permit, PermitSample } from "../guard/limiter.js";
import { sampleOutcomeForStatus } from "../guard/retry.js";
import { sleep } from "../model/sleep.js";
import type { ClassifiedRequest } from "./classify-request.js";
import { endToEndHeaders, sendError } from "./http-messages.js";
import type { ProxyContext } from "./proxy-context.js";
import { hasNoBody } from "./request-body.js";
import { backoffMs, mayBeTransient, shouldRetry, type UpstreamFailure } from "./retry-rules.js";

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
    headers: upstreamHeaders(req, body) as unknown as Record<string, string>,
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

/**
 * Forwards `req` and answers `res`. `body` is the buffered request body when the proxy read it
 * (spec-carrying requests), else the client's body is streamed through as it arrives.
 */
export async function forwardHttp(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  classified: ClassifiedRequest,
  body: Buffer | undefined,
): Promise<ForwardResult> {
  const cls = classified.class;
  const method = req.method ?? "GET";
  const replayable = body !== undefined || hasNoBody(req);
  const canRepeat = idempotent(classified.operation, method);
  const counted = { bytesIn: 0, bytesOut: 0 };
  const clientGone = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) clientGone.abort();
  });
  let queuedMs = 0;

  for (let attempt = 1; ; attempt++) {
    let permit: Permit;
    try {
      permit = await ctx.limiter.acquire(cls, clientGone.signal, classified.operation);
    } catch {
      ctx.metrics.clientAborted();
      return {
        status: 499,
        queuedMs,
        latencyMs: undefined,
        attempts: attempt,
        ...counted,
        note: "client left",
      };
    }
    queuedMs += permit.queuedMs;
    ctx.metrics.dispatched(cls, permit.queuedMs);
    const t0 = performance.now();
    let released = false;
    const finish = (sample: Omit<PermitSample, "operation">, latencyMs: number | undefined) => {
      if (released) return;
      released = true;
      permit.release({ ...sample, operation: classified.operation });
      ctx.metrics.finished(cls, latencyMs);
    };

    const { upstreamReq, exchange } = send(ctx, req, body, counted);
    const onClientGone = () => upstreamReq.destroy();
    clientGone.signal.addEventListener("abort", onClientGone, { once: true });
    const outcome = await exchange;

    if (outcome.kind === "failure") {
      const elapsed = performance.now() - t0;
      finish({ latencyMs: elapsed, outcome: clientGone.signal.aborted ? "dropped" : "error" }, undefined);
      clientGone.signal.removeEventListener("abort", onClientGone);
      if (clientGone.signal.aborted) {
        ctx.metrics.clientAborted();
        return {
          status: 499,
          queuedMs,
          latencyMs: undefined,
          attempts: attempt,
          ...counted,
          note: "client left",
        };
      }
      const failure: UpstreamFailure = {
        kind: "connection",
        code: outcome.code,
        reusedSocket: outcome.reusedSocket,
      };
      if (
        shouldRetry({ attempt, maxAttempts: ctx.maxAttempts, idempotent: canRepeat, replayable, failure })
      ) {
        ctx.metrics.retried();
        await sleep(backoffMs(attempt));
        continue;
      }
      ctx.metrics.upstreamFailed();
      const message = `berth proxy: cannot reach the Docker daemon at ${ctx.upstream.endpoint.url} (${ctx.upstream.endpoint.source}: ${outcome.code ?? outcome.message})`;
      sendError(res, 502, message);
      return { status: 502, queuedMs, latencyMs: undefined, attempts: attempt, ...counted, note: message };
    }

    const upstream = outcome.upstream;
    const status = upstream.statusCode ?? 502;
    const headersAt = performance.now() - t0;
    const declared = Number(upstream.headers["content-length"] ?? Number.NaN);
    const smallError = mayBeTransient(status) && cls !== "stream" && replayable && declared <= MAX_ERROR_BODY;
    let buffered: Buffer | undefined;
    if (smallError) {
      buffered = await readSmall(upstream);
      const message = buffered ? (apiMessageOf({ json: buffered.toString("utf8") }) ?? "") : "";
      const failure: UpstreamFailure = { kind: "status", status, message };
      if (
        buffered &&
        shouldRetry({ attempt, maxAttempts: ctx.maxAttempts, idempotent: canRepeat, replayable, failure })
      ) {
        finish(
          { latencyMs: performance.now() - t0, outcome: sampleOutcomeForStatus(status) },
          performance.now() - t0,
        );
        clientGone.signal.removeEventListener("abort", onClientGone);
        ctx.metrics.retried();
        await sleep(backoffMs(attempt));
        continue;
      }
    }

    ctx.metrics.status(status);
    res.writeHead(status, upstream.statusMessage, endToEndHeaders(upstream.rawHeaders));
    // 4xx answers are about the request, not the daemon's load; streams are never latency samples.
    const sampleOutcome = cls === "stream" ? "dropped" : sampleOutcomeForStatus(status);
    if (buffered) {
      counted.bytesOut += buffered.length;
      res.end(buffered);
      finish({ latencyMs: performance.now() - t0, outcome: sampleOutcome }, performance.now() - t0);
      return { status, queuedMs, latencyMs: performance.now() - t0, attempts: attempt, ...counted };
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
    clientGone.signal.removeEventListener("abort", onClientGone);
    const total = performance.now() - t0;
    const latencyMs = cls === "stream" ? headersAt : total;
    if (ended === "upstream-failed") {
      ctx.metrics.upstreamFailed();
      res.destroy();
      finish({ latencyMs, outcome: "error" }, latencyMs);
      return { status, queuedMs, latencyMs, attempts: attempt, ...counted, note: "daemon cut the response" };
    }
    if (ended === "client-left") {
      upstreamReq.destroy();
      // A client closing a stream it followed is how streams end, not a failure.
      if (cls !== "stream") ctx.metrics.clientAborted();
      finish({ latencyMs, outcome: "dropped" }, latencyMs);
      return { status, queuedMs, latencyMs, attempts: attempt, ...counted };
    }
    finish({ latencyMs, outcome: sampleOutcome }, latencyMs);
    return { status, queuedMs, latencyMs, attempts: attempt, ...counted };
  }
}
