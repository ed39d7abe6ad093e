// One pull for all clients: identical `POST /images/create?fromImage=...` calls (same image, tag,
// platform and credentials) that arrive while one is in flight join it instead of asking the
// daemon again. The daemon pulls once (one manifest fetch at the registry) and every client gets
// the same status and progress stream: a late joiner is replayed what it missed, then follows.
// When every client of a pull has left, the pull is cancelled, as a lone client's leaving would.
import { createHash } from "node:crypto";
import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from "node:http";
import { sleep } from "../model/sleep.js";
import type { ForwardResult } from "./forward-http.js";
import { endToEndHeaders, sendError } from "./http-messages.js";
import type { ProxyContext } from "./proxy-context.js";
import { hasNoBody } from "./request-body.js";
import { backoffMs, shouldRetry } from "./retry-rules.js";

/** A pull's progress kept for late joiners up to this size; beyond it nobody else joins that pull. */
const MAX_REPLAY_BYTES = 8 * 1024 * 1024;

interface Flight {
  head?: { status: number; statusMessage: string | undefined; headers: string[] };
  chunks: Buffer[];
  replayBytes: number;
  waiters: Set<ServerResponse>;
  upstreamReq?: ClientRequest;
  ended: boolean;
}

const flightsByProxy = new WeakMap<ProxyContext, Map<string, Flight>>();

/** The key identical pulls share, or undefined for requests that are not plain pulls (imports, bodies). */
export function pullCoalescingKey(req: IncomingMessage): string | undefined {
  if (req.method !== "POST" || !hasNoBody(req)) return undefined;
  const url = new URL(req.url ?? "/", "http://docker");
  if (!/^(\/v[\d.]+)?\/images\/create$/.test(url.pathname)) return undefined;
  if (!url.searchParams.get("fromImage") || url.searchParams.has("fromSrc")) return undefined;
  const query = [...url.searchParams].sort(([a], [b]) => a.localeCompare(b));
  // The credentials are part of the key (a pull is never shared across logins), hashed so the
  // key holds no secret.
  const auth = createHash("sha256")
    .update(String(req.headers["x-registry-auth"] ?? ""))
    .digest("hex");
  return `${JSON.stringify(query)}\n${auth}`;
}

function attach(flight: Flight, res: ServerResponse): void {
  flight.waiters.add(res);
  if (!flight.head) return;
  res.writeHead(flight.head.status, flight.head.statusMessage, flight.head.headers);
  res.flushHeaders();
  for (const chunk of flight.chunks) res.write(chunk);
  if (flight.ended) res.end();
}

function upstreamHeaders(req: IncomingMessage): string[] {
  const headers = endToEndHeaders(req.rawHeaders);
  if (req.headers.host === undefined) headers.push("Host", "docker");
  return headers;
}

/** Starts the daemon's pull for `key`; its answer goes to every waiter of the flight. */
async function fly(
  ctx: ProxyContext,
  req: IncomingMessage,
  key: string,
  flights: Map<string, Flight>,
  flight: Flight,
) {
  const permit = await ctx.limiter.acquire("stream", undefined, "image.pull");
  ctx.metrics.dispatched("stream", permit.queuedMs);
  const t0 = performance.now();
  const land = (latencyMs: number | undefined) => {
    if (flights.get(key) === flight) flights.delete(key);
    permit.release({ latencyMs: 0, outcome: "dropped", operation: "image.pull" });
    ctx.metrics.finished("stream", latencyMs);
  };
  for (let attempt = 1; ; attempt++) {
    const upstreamReq = request({
      ...ctx.upstream.requestOptions(),
      method: "POST",
      path: req.url,
      headers: upstreamHeaders(req) as unknown as Record<string, string>,
    });
    flight.upstreamReq = upstreamReq;
    const outcome = await new Promise<IncomingMessage | NodeJS.ErrnoException>((resolve) => {
      upstreamReq.once("response", resolve);
      upstreamReq.once("error", resolve);
      upstreamReq.end();
    });
    if (!(outcome instanceof Error)) {
      relay(ctx, outcome, flight, () => land(performance.now() - t0), key, flights);
      return;
    }
    if (flight.waiters.size === 0) return land(undefined);
    const failure = {
      kind: "connection" as const,
      code: outcome.code,
      reusedSocket: upstreamReq.reusedSocket,
    };
    if (shouldRetry({ attempt, maxAttempts: ctx.maxAttempts, idempotent: true, replayable: true, failure })) {
      ctx.metrics.retried();
      await sleep(backoffMs(attempt));
      continue;
    }
    ctx.metrics.upstreamFailed();
    const message = `berth proxy: cannot reach the Docker daemon at ${ctx.upstream.endpoint.url} (${outcome.code ?? outcome.message})`;
    for (const res of flight.waiters) sendError(res, 502, message);
    return land(undefined);
  }
}

function relay(
  ctx: ProxyContext,
  upstream: IncomingMessage,
  flight: Flight,
  land: () => void,
  key: string,
  flights: Map<string, Flight>,
): void {
  const status = upstream.statusCode ?? 502;
  ctx.metrics.status(status);
  flight.head = {
    status,
    statusMessage: upstream.statusMessage,
    headers: endToEndHeaders(upstream.rawHeaders),
  };
  for (const res of flight.waiters) {
    res.writeHead(status, upstream.statusMessage, flight.head.headers);
    res.flushHeaders();
  }
  upstream.on("data", (chunk: Buffer) => {
    if (flight.replayBytes <= MAX_REPLAY_BYTES) {
      flight.chunks.push(chunk);
      flight.replayBytes += chunk.length;
    } else if (flights.get(key) === flight) {
      flights.delete(key);
    }
    for (const res of flight.waiters) res.write(chunk);
  });
  upstream.once("end", () => {
    flight.ended = true;
    for (const res of flight.waiters) res.end();
    land();
  });
  const cut = () => {
    if (flight.ended) return;
    flight.ended = true;
    ctx.metrics.upstreamFailed();
    for (const res of flight.waiters) res.destroy();
    land();
  };
  upstream.once("error", cut);
  upstream.once("aborted", cut);
}

/** Serves a pull request, sharing the daemon's pull with identical requests in flight. */
export async function serveCoalescedPull(
  ctx: ProxyContext,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
): Promise<ForwardResult> {
  let flights = flightsByProxy.get(ctx);
  if (!flights) {
    flights = new Map();
    flightsByProxy.set(ctx, flights);
  }
  let flight = flights.get(key);
  const joined = flight !== undefined;
  if (!flight) {
    flight = { chunks: [], replayBytes: 0, waiters: new Set(), ended: false };
    flights.set(key, flight);
    void fly(ctx, req, key, flights, flight);
  }
  const own = flight;
  attach(own, res);
  let bytesOut = 0;
  const write = res.write.bind(res);
  res.write = ((chunk: Buffer, ...rest: never[]) => {
    bytesOut += chunk.length;
    return write(chunk, ...rest);
  }) as typeof res.write;
  const t0 = performance.now();
  await new Promise<void>((resolve) => res.once("close", () => resolve()));
  own.waiters.delete(res);
  const left = !res.writableFinished;
  // The last client gone: nobody wants this pull any more.
  if (left && own.waiters.size === 0 && !own.ended) own.upstreamReq?.destroy();
  if (left) ctx.metrics.clientAborted();
  return {
    status: own.head?.status ?? 499,
    queuedMs: 0,
    latencyMs: performance.now() - t0,
    attempts: 1,
    bytesIn: 0,
    bytesOut,
    ...(joined ? { note: "pull coalesced with an identical one in flight" } : {}),
  };
}
