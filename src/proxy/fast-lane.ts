// The proxy's fast lane: body-less reads (GET and HEAD of the read class, which is most of what
// clients send) relayed as raw bytes over one upstream connection per client connection, through
// the same classification, policy, limiter, retry rules, metrics and log as the full path, but
// without Node's HTTP objects on either side. Anything else (a body, an upgrade, a stream, the
// proxy's own endpoints, a denial, an unusual head) hands the connection, with the bytes already
// read, to the HTTP server of handle-request.ts for the rest of its life.
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { apiMessageOf } from "../engine/classify.js";
import type { Permit, PermitSample } from "../guard/limiter.js";
import { sampleOutcomeForStatus } from "../guard/retry.js";
import { sleep } from "../model/sleep.js";
import { type ClassifiedRequest, classifyRequest } from "./classify-request.js";
import { errorBody } from "./http-messages.js";
import { checkEndpoint } from "./policy.js";
import type { ProxyContext, ProxyLogEntry } from "./proxy-context.js";
import { ResponseReader, readRequestHead } from "./raw-http.js";
import { backoffMs, mayBeTransient, shouldRetry } from "./retry-rules.js";

/** Error answers are small JSON; a larger one is relayed without being read for a retry. */
const MAX_ERROR_BODY = 64 * 1024;
const PROXY_PATHS = "/_berth/";

export interface FastLane {
  /** Connections in the lane now; `idle` ones are between requests. */
  readonly connections: Set<{ socket: Duplex; idle(): boolean }>;
}

/** A request the lane takes: classified as a read, allowed by the policy. */
function laneRequest(ctx: ProxyContext, method: string, url: string): ClassifiedRequest | undefined {
  if (method !== "GET" && method !== "HEAD") return undefined;
  if (url.startsWith(PROXY_PATHS)) return undefined;
  const classified = classifyRequest(method, url);
  if (!classified.ok || classified.request.class !== "read") return undefined;
  if (ctx.policy && checkEndpoint(ctx.policy, classified.request)) return undefined;
  return classified.request;
}

function rawError(status: number, message: string): Buffer {
  const body = errorBody(message);
  return Buffer.from(
    `HTTP/1.1 ${status} ${status === 502 ? "Bad Gateway" : "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    "latin1",
  );
}

type Exchange =
  | { kind: "answered"; reader: ResponseReader; buffered?: Buffer[] }
  | {
      kind: "failed";
      code: string | undefined;
      reusedSocket: boolean;
      message: string;
      /** Part of the answer already went to the client: it cannot be repeated. */
      partial: boolean;
      status: number;
    }
  | { kind: "client-left" };

/**
 * Serves `client` in the fast lane until it closes or a request needs the full path; then
 * `handOver(client, pending)` gives the connection to the HTTP server with the bytes not yet handled.
 */
export function serveFast(
  ctx: ProxyContext,
  lane: FastLane,
  client: Socket,
  handOver: (client: Socket, pending: Buffer) => void,
): void {
  let pending: Buffer = Buffer.alloc(0);
  let busy = false;
  let upstream: Duplex | undefined;
  let upstreamUsed = false;
  let ended = false;
  const gone = new AbortController();
  const entry = { socket: client, idle: () => !busy };
  lane.connections.add(entry);

  const dropUpstream = () => {
    upstream?.destroy();
    upstream = undefined;
  };
  const onData = (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (!busy) next();
  };
  const onClose = () => {
    lane.connections.delete(entry);
    gone.abort();
    dropUpstream();
  };
  const onError = () => client.destroy();
  // The server allows half-open connections (attach needs them); a client that ended its side
  // gets its answer, then the end of ours.
  const onEnd = () => {
    ended = true;
    if (!busy) client.end();
  };
  client.on("data", onData);
  client.once("close", onClose);
  client.on("error", onError);
  client.once("end", onEnd);

  function leave(): void {
    client.pause();
    client.off("data", onData);
    client.off("close", onClose);
    client.off("error", onError);
    client.off("end", onEnd);
    lane.connections.delete(entry);
    dropUpstream();
    const rest = pending;
    pending = Buffer.alloc(0);
    handOver(client, rest);
  }

  function next(): void {
    if (pending.length === 0 || client.destroyed) return;
    // A head that came in pieces is left to the HTTP server too, with its header timeout.
    const head = readRequestHead(pending);
    if (head.kind !== "plain") {
      leave();
      return;
    }
    const request = laneRequest(ctx, head.method, head.url);
    if (!request) {
      leave();
      return;
    }
    const bytes = pending.subarray(0, head.length);
    pending = pending.subarray(head.length);
    busy = true;
    relay(bytes, head.method, head.url, request, head.close).then(
      (keep) => {
        busy = false;
        if (keep && !ended) next();
        else client.end();
      },
      () => client.destroy(),
    );
  }

  /** Opens (or reuses) the upstream connection and sends the request; resolves with what came back. */
  function exchange(bytes: Buffer, noBody: boolean): Promise<Exchange> {
    if (!upstream || upstream.destroyed) {
      const opened = ctx.upstream.connect();
      // An idle connection the daemon drops must not crash the proxy; the next request reconnects.
      opened.on("error", () => opened.destroy());
      opened.once("close", () => {
        if (upstream === opened) upstream = undefined;
      });
      upstream = opened;
      upstreamUsed = false;
    }
    const socket = upstream;
    const reusedSocket = upstreamUsed;
    upstreamUsed = true;
    const reader = new ResponseReader(noBody);
    return new Promise<Exchange>((resolve) => {
      // Bytes held back until the status is known, and kept for a possible retry of a small error.
      let held: Buffer[] | undefined = [];
      let wrote = false;
      const settle = (result: Exchange) => {
        socket.off("data", onUpstreamData);
        socket.off("error", onError);
        socket.off("close", onUpstreamClose);
        gone.signal.removeEventListener("abort", onGone);
        client.off("drain", onDrain);
        socket.resume();
        resolve(result);
      };
      const forward = (part: Buffer) => {
        wrote = true;
        if (!client.write(part)) {
          socket.pause();
          client.once("drain", onDrain);
        }
      };
      const onDrain = () => socket.resume();
      const failed = (code: string | undefined, message: string): Exchange => ({
        kind: "failed",
        code,
        reusedSocket,
        message,
        partial: wrote,
        status: reader.status,
      });
      const onUpstreamData = (chunk: Buffer) => {
        let used: number;
        try {
          used = reader.feed(chunk);
        } catch (error) {
          socket.destroy();
          settle(failed("EPROTO", (error as Error).message));
          return;
        }
        const part = used === chunk.length ? chunk : chunk.subarray(0, used);
        if (held) {
          held.push(part);
          if (reader.headReceived) {
            const declared = reader.declaredLength ?? Number.POSITIVE_INFINITY;
            if (!(mayBeTransient(reader.status) && declared <= MAX_ERROR_BODY)) {
              forward(held.length === 1 ? held[0]! : Buffer.concat(held));
              held = undefined;
            }
          }
        } else {
          forward(part);
        }
        // Bytes after the response that nobody asked for: the connection is not reused.
        if (used < chunk.length) socket.destroy();
        if (reader.done) settle({ kind: "answered", reader, ...(held ? { buffered: held } : {}) });
      };
      const onError = (error: NodeJS.ErrnoException) => {
        if (!reader.endsAtClose) settle(failed(error.code, error.message));
      };
      const onUpstreamClose = () => {
        settle(
          reader.endsAtClose
            ? { kind: "answered", reader }
            : failed("ECONNRESET", "the daemon closed the connection"),
        );
      };
      const onGone = () => settle({ kind: "client-left" });
      socket.on("data", onUpstreamData);
      socket.on("error", onError);
      socket.on("close", onUpstreamClose);
      gone.signal.addEventListener("abort", onGone, { once: true });
      socket.write(bytes);
    });
  }

  async function relay(
    bytes: Buffer,
    method: string,
    url: string,
    request: ClassifiedRequest,
    clientClose: boolean,
  ): Promise<boolean> {
    const started = performance.now();
    const cls = request.class;
    ctx.metrics.received(cls);
    let queuedMs = 0;
    let bytesOut = 0;
    const result = (status: number, latencyMs: number | undefined, attempts: number, note?: string) => {
      ctx.metrics.bytes(0, bytesOut);
      if (!ctx.log) return;
      const entry: ProxyLogEntry = {
        time: new Date().toISOString(),
        method,
        url,
        operation: request.operation,
        class: cls,
        status,
        queuedMs,
        latencyMs,
        durationMs: performance.now() - started,
        attempts,
        bytesIn: 0,
        bytesOut,
        ...(note ? { note } : {}),
      };
      ctx.log(entry);
    };
    for (let attempt = 1; ; attempt++) {
      let permit: Permit;
      try {
        permit = await ctx.limiter.acquire(cls, gone.signal, request.operation);
      } catch {
        ctx.metrics.clientAborted();
        result(499, undefined, attempt, "client left");
        return false;
      }
      queuedMs += permit.queuedMs;
      ctx.metrics.dispatched(cls, permit.queuedMs);
      const t0 = performance.now();
      const outcome = await exchange(bytes, method === "HEAD");
      const latencyMs = performance.now() - t0;
      const finish = (sample: PermitSample["outcome"]) => {
        permit.release({ latencyMs, outcome: sample, operation: request.operation });
        ctx.metrics.finished(cls, latencyMs);
      };
      if (outcome.kind === "client-left") {
        dropUpstream();
        finish("dropped");
        ctx.metrics.clientAborted();
        result(499, undefined, attempt, "client left");
        return false;
      }
      if (outcome.kind === "failed") {
        dropUpstream();
        finish(gone.signal.aborted ? "dropped" : "error");
        if (outcome.partial) {
          ctx.metrics.upstreamFailed();
          client.destroy();
          result(outcome.status || 502, latencyMs, attempt, "daemon cut the response");
          return false;
        }
        const failure = {
          kind: "connection" as const,
          code: outcome.code,
          reusedSocket: outcome.reusedSocket,
        };
        if (
          shouldRetry({ attempt, maxAttempts: ctx.maxAttempts, idempotent: true, replayable: true, failure })
        ) {
          ctx.metrics.retried();
          await sleep(backoffMs(attempt));
          continue;
        }
        ctx.metrics.upstreamFailed();
        const message = `berth proxy: cannot reach the Docker daemon at ${ctx.upstream.endpoint.url} (${outcome.code ?? outcome.message})`;
        ctx.metrics.status(502);
        client.write(rawError(502, message));
        result(502, undefined, attempt, message);
        return !clientClose;
      }
      const { reader, buffered } = outcome;
      if (reader.close) dropUpstream();
      const status = reader.status;
      if (buffered) {
        const all = Buffer.concat(buffered);
        const bodyStart = all.indexOf("\r\n\r\n") + 4;
        const message = apiMessageOf({ json: all.toString("utf8", bodyStart) }) ?? "";
        const failure = { kind: "status" as const, status, message };
        if (
          shouldRetry({ attempt, maxAttempts: ctx.maxAttempts, idempotent: true, replayable: true, failure })
        ) {
          finish(sampleOutcomeForStatus(status));
          ctx.metrics.retried();
          await sleep(backoffMs(attempt));
          continue;
        }
        client.write(all);
      }
      bytesOut = reader.bodyBytes;
      ctx.metrics.status(status);
      finish(sampleOutcomeForStatus(status));
      result(status, latencyMs, attempt);
      return !(clientClose || reader.close);
    }
  }

  if (pending.length > 0) next();
}
