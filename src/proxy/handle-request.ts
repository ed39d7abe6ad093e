// One request's way through the proxy: the proxy's own endpoints, classification, policy, the
// safe-removal rewrite, then the daemon. Upgraded requests take the same checks before the splice.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { type ClassifiedRequest, classifyRequest, forceRemovalOf } from "./classify-request.js";
import { pullCoalescingKey, serveCoalescedPull } from "./coalesce-pull.js";
import { type ForwardResult, forwardHttp } from "./forward-http.js";
import { forwardUpgrade } from "./forward-upgrade.js";
import { gracefulRemoval } from "./graceful-removal.js";
import { sendError, sendRawError } from "./http-messages.js";
import { toPrometheus } from "./metrics.js";
import { checkBody, checkEndpoint, type Denial, policyReadsBody } from "./policy.js";
import type { ProxyContext, ProxyLogEntry } from "./proxy-context.js";
import { discardBody, readBody } from "./request-body.js";
import { withDefaultStopTimeout } from "./stop-timeout.js";

export const METRICS_PATH = "/_berth/metrics";
/** A refused request's body is read and dropped up to this size before the answer. */
const MAX_DISCARD_BYTES = 64 * 1024 * 1024;

function log(
  ctx: ProxyContext,
  req: IncomingMessage,
  started: number,
  classified: ClassifiedRequest | undefined,
  result: Partial<ForwardResult> & { status: number },
): void {
  if (!ctx.log) return;
  const entry: ProxyLogEntry = {
    time: new Date().toISOString(),
    method: req.method ?? "",
    url: req.url ?? "",
    operation: classified?.operation,
    class: classified?.class,
    status: result.status,
    queuedMs: result.queuedMs,
    latencyMs: result.latencyMs,
    durationMs: performance.now() - started,
    attempts: result.attempts,
    bytesIn: result.bytesIn ?? 0,
    bytesOut: result.bytesOut ?? 0,
    note: result.note,
  };
  ctx.log(entry);
}

function serveMetrics(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  const snapshot = ctx.metrics.snapshot();
  const wantsText = /\btext\/plain\b/.test(req.headers.accept ?? "");
  const body = wantsText ? toPrometheus(snapshot) : `${JSON.stringify(snapshot)}\n`;
  res.writeHead(200, {
    "Content-Type": wantsText ? "text/plain; version=0.0.4; charset=utf-8" : "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

type Checked = { ok: true; request: ClassifiedRequest } | { ok: false; status: number; message: string };

function check(ctx: ProxyContext, req: IncomingMessage): Checked {
  const classified = classifyRequest(req.method ?? "GET", req.url ?? "");
  if (!classified.ok) {
    ctx.metrics.badRequest();
    const status = classified.reason === "outside-api" ? 404 : 400;
    return { ok: false, status, message: `berth proxy: ${classified.message}` };
  }
  ctx.metrics.received(classified.request.class);
  const denial = ctx.policy ? checkEndpoint(ctx.policy, classified.request) : undefined;
  if (denial) return denied(ctx, denial);
  return { ok: true, request: classified.request };
}

function denied(ctx: ProxyContext, denial: Denial): Checked {
  ctx.metrics.denied(denial.rule);
  return { ok: false, status: 403, message: denial.message };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Why a non-empty spec body is not JSON, or undefined when it is (or is empty). */
function invalidJson(body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  try {
    JSON.parse(body.toString("utf8"));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export async function handleRequest(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now();
  if (req.url === METRICS_PATH || req.url?.startsWith(`${METRICS_PATH}?`)) {
    serveMetrics(ctx, req, res);
    return;
  }
  const checked = check(ctx, req);
  if (!checked.ok) {
    const drained = await discardBody(req, MAX_DISCARD_BYTES);
    sendError(res, checked.status, checked.message, !drained);
    log(ctx, req, started, undefined, { status: checked.status, note: checked.message });
    return;
  }
  const classified = checked.request;

  let body: Buffer | undefined;
  if (classified.jsonBody) {
    const read = await readBody(req, ctx.maxBodyBytes);
    if (!read.ok) {
      if (read.reason === "too-large") {
        ctx.metrics.badRequest();
        const message = `berth proxy: the ${classified.operation} request body is larger than ${ctx.maxBodyBytes} bytes`;
        sendError(res, 413, message, true);
        log(ctx, req, started, classified, { status: 413, note: message });
      }
      return;
    }
    body = read.body;
    // Refused here: Docker 20.10 answers a malformed spec with a 500, which the limiter would
    // count as the daemon failing and a retry rule as transient.
    const malformed = invalidJson(body);
    if (malformed) {
      ctx.metrics.badRequest();
      const message = `berth proxy: the ${classified.operation} request body is not valid JSON: ${malformed}`;
      sendError(res, 400, message);
      log(ctx, req, started, classified, { status: 400, note: message });
      return;
    }
    const denial =
      ctx.policy && policyReadsBody(ctx.policy, classified)
        ? checkBody(ctx.policy, classified, parseJson(body))
        : undefined;
    if (denial) {
      denied(ctx, denial);
      sendError(res, 403, denial.message);
      log(ctx, req, started, classified, { status: 403, note: denial.message });
      return;
    }
  }

  // Podman would record a create without StopTimeout as 0 and kill it at once on stop.
  if (body && classified.operation === "container.create" && (await ctx.isPodman()))
    body = withDefaultStopTimeout(body) ?? body;

  const removal = ctx.rewrite ? forceRemovalOf(req.method ?? "", classified, req.url ?? "") : undefined;
  if (removal && ctx.rewrite) {
    const answer = await gracefulRemoval(ctx.rewrite.engine, removal, {
      maxGraceSeconds: ctx.rewrite.maxGraceSeconds,
    });
    if (answer.kind === "answer") {
      ctx.metrics.rewrote(answer.status < 300);
      ctx.metrics.status(answer.status);
      if (answer.status === 204) {
        res.writeHead(204);
        res.end();
      } else {
        sendError(res, answer.status, answer.message ?? "graceful removal failed");
      }
      const note =
        answer.status === 204
          ? `rewrite: force removal made graceful (${answer.outcome}, grace ${answer.graceSeconds}s)`
          : `rewrite failed: ${answer.message}`;
      log(ctx, req, started, classified, { status: answer.status, note });
      return;
    }
  }

  // Identical pulls in flight share one (coalesce-pull.ts).
  const pullKey = classified.operation === "image.pull" ? pullCoalescingKey(req) : undefined;
  const result = pullKey
    ? await serveCoalescedPull(ctx, req, res, pullKey)
    : await forwardHttp(ctx, req, res, classified, body);
  ctx.metrics.bytes(result.bytesIn, result.bytesOut);
  log(ctx, req, started, classified, result);
}

export async function handleUpgrade(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const started = performance.now();
  const checked = check(ctx, req);
  if (!checked.ok) {
    sendRawError(socket, checked.status, checked.message);
    log(ctx, req, started, undefined, { status: checked.status, note: checked.message });
    return;
  }
  const result = await forwardUpgrade(ctx, req, socket, head, checked.request);
  ctx.metrics.bytes(result.bytesIn, result.bytesOut);
  log(ctx, req, started, checked.request, result);
}
