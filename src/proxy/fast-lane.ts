// The proxy's fast lane: body-less reads (GET and HEAD of the read class, which is most of what
// clients send) relayed as raw bytes over one upstream connection per client connection, through
// the same classification, policy, limiter, retry rules, metrics and log as the full path, but
// without Node's HTTP objects on either side. Anything else (a body, an upgrade, a stream, the
// proxy's own endpoints, a denial, an unusual head) hands the connection, with the bytes already
// read, to the HTTP server of handle-request.ts for the rest of its life.
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { apiMessageOf } from "../engine/classify.js";
import { type DispatchAttempt, guardedDispatch, RETRY } from "../guard/dispatch.js";
import type { PermitSample } from "../guard/limiter.js";
import { sampleOutcomeForStatus } from "../guard/retry.js";
import { type ClassifiedRequest, classifyRequest } from "./classify-request.js";
import { type Exchange, exchange, UpstreamLink, UpstreamPool } from "./fast-exchange.js";
import { errorBody } from "./http-messages.js";
import { checkEndpoint } from "./policy.js";
import type { ProxyContext } from "./proxy-context.js";
import { readRequestHead } from "./raw-http.js";
import { shouldRetry, type UpstreamFailure } from "./retry-rules.js";

const PROXY_PATHS = "/_berth/";

export interface FastLane {
  /** Connections in the lane now; `idle` ones are between requests. */
  readonly connections: Set<{ socket: Duplex; idle(): boolean }>;
  /**
   * What `laneRequest` answered for recent request lines (`METHOD target`): classification and
   * the endpoint policy depend on nothing else, and clients repeat the same few reads (`_ping`,
   * lists, inspects of their containers).
   */
  readonly decisions: Map<string, ClassifiedRequest | false>;
  /** Upstream connections between clients. */
  readonly upstreams: UpstreamPool;
}

/** Request lines the lane remembers its decision for; the map is emptied when it is full. */
const DECISIONS = 512;
/** A longer target (a list with long filters) is classified every time. */
const MAX_REMEMBERED_TARGET = 512;

export function createFastLane(ctx: ProxyContext): FastLane {
  return {
    connections: new Set(),
    decisions: new Map(),
    upstreams: new UpstreamPool(() => ctx.upstream.connect()),
  };
}

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
  new FastConnection(ctx, lane, client, handOver).start();
}

/** `laneRequest`, remembered per request line. */
function decide(
  ctx: ProxyContext,
  lane: FastLane,
  method: string,
  url: string,
): ClassifiedRequest | undefined {
  if (url.length > MAX_REMEMBERED_TARGET) return laneRequest(ctx, method, url);
  const key = `${method} ${url}`;
  let decision = lane.decisions.get(key);
  if (decision === undefined) {
    decision = laneRequest(ctx, method, url) ?? false;
    if (lane.decisions.size >= DECISIONS) lane.decisions.clear();
    lane.decisions.set(key, decision);
  }
  return decision || undefined;
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

/** One read the lane relays, and what the access log says of it once it ends. */
interface LaneRead {
  bytes: Buffer;
  method: string;
  url: string;
  request: ClassifiedRequest;
  /** The client asked to close the connection after this answer. */
  clientClose: boolean;
  started: number;
  attempts: number;
  queuedMs: number;
  bytesOut: number;
}

/** What one attempt's answer means: keep the connection (true), close it (false), or RETRY. */
type Verdict = boolean | typeof RETRY;

/** An attempt's permit, released with what the daemon's answer says about its load. */
type Finish = (sample: PermitSample["outcome"]) => void;

/**
 * One client connection in the lane. Each request goes: read its head (`next`), take it or hand
 * the connection over (`leave`), relay it through the limiter and retry policy (`relay`), one
 * attempt at a time (`attempt`), whose outcome is judged by `clientLeft`, `failed` or `answered`.
 */
class FastConnection {
  #pending: Buffer = Buffer.alloc(0);
  #busy = false;
  #ended = false;
  readonly #gone = new AbortController();
  readonly #upstream: UpstreamLink;
  readonly #entry: { socket: Duplex; idle(): boolean };

  constructor(
    private readonly ctx: ProxyContext,
    private readonly lane: FastLane,
    private readonly client: Socket,
    private readonly handOver: (client: Socket, pending: Buffer) => void,
  ) {
    this.#upstream = new UpstreamLink(lane.upstreams);
    this.#entry = { socket: client, idle: () => !this.#busy };
  }

  start(): void {
    this.lane.connections.add(this.#entry);
    this.client.on("data", this.#onData);
    this.client.once("close", this.#onClose);
    this.client.on("error", this.#onError);
    this.client.once("end", this.#onEnd);
  }

  readonly #onData = (chunk: Buffer) => {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    if (!this.#busy) this.#next();
  };
  readonly #onClose = () => {
    this.lane.connections.delete(this.#entry);
    this.#gone.abort();
    // Between requests the upstream connection serves the next client; during one it is cut.
    if (this.#busy) this.#upstream.drop();
    else this.#upstream.park();
  };
  readonly #onError = () => this.client.destroy();
  // The server allows half-open connections (attach needs them); a client that ended its side
  // gets its answer, then the end of ours.
  readonly #onEnd = () => {
    this.#ended = true;
    if (!this.#busy) this.client.end();
  };

  /** Takes the next complete request, or hands the connection over when the lane cannot serve it. */
  #next(): void {
    if (this.#pending.length === 0 || this.client.destroyed) return;
    // A head that came in pieces is left to the HTTP server too, with its header timeout.
    const head = readRequestHead(this.#pending);
    const request = head.kind === "plain" ? decide(this.ctx, this.lane, head.method, head.url) : undefined;
    if (head.kind !== "plain" || !request) {
      this.#leave();
      return;
    }
    const bytes = this.#pending.subarray(0, head.length);
    this.#pending = this.#pending.subarray(head.length);
    this.#busy = true;
    const read: LaneRead = {
      bytes,
      method: head.method,
      url: head.url,
      request,
      clientClose: head.close,
      started: performance.now(),
      attempts: 0,
      queuedMs: 0,
      bytesOut: 0,
    };
    this.#relay(read).then(
      (keep) => {
        this.#busy = false;
        if (keep && !this.#ended) this.#next();
        else this.client.end();
      },
      () => this.client.destroy(),
    );
  }

  /** Gives the connection, with the bytes not yet handled, to the full path for the rest of its life. */
  #leave(): void {
    const { client } = this;
    client.pause();
    client.off("data", this.#onData);
    client.off("close", this.#onClose);
    client.off("error", this.#onError);
    client.off("end", this.#onEnd);
    this.lane.connections.delete(this.#entry);
    this.#upstream.park();
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    this.handOver(client, rest);
  }

  /** Relays one read through the limiter and the retry policy; resolves whether to keep the connection. */
  async #relay(read: LaneRead): Promise<boolean> {
    const { ctx } = this;
    ctx.metrics.received(read.request.class);
    try {
      return await guardedDispatch(
        ctx.dispatch,
        { class: read.request.class, operation: read.request.operation, signal: this.#gone.signal },
        (attempt) => this.#attempt(read, attempt),
      );
    } catch (error) {
      // The client left while the request waited for a slot or for a retry.
      if (!this.#gone.signal.aborted) throw error;
      ctx.metrics.clientAborted();
      this.#log(read, 499, undefined, "client left", Math.max(read.attempts, 1));
      return false;
    }
  }

  /** One attempt in its slot: send, then judge what came back. */
  async #attempt(read: LaneRead, { number, permit, mayRetry }: DispatchAttempt): Promise<Verdict> {
    const { ctx } = this;
    const cls = read.request.class;
    read.attempts = number;
    read.queuedMs += permit.queuedMs;
    ctx.metrics.dispatched(cls, permit.queuedMs);
    const t0 = performance.now();
    const outcome = await exchange(
      this.#upstream,
      this.client,
      read.bytes,
      read.method === "HEAD",
      this.#gone.signal,
    );
    const latencyMs = performance.now() - t0;
    const finish: Finish = (sample) => {
      permit.release({ latencyMs, outcome: sample, operation: read.request.operation });
      ctx.metrics.finished(cls, latencyMs);
    };
    // Reads are idempotent and carry no body: the proxy's rules only ask what the failure says.
    const retryable = (failure: UpstreamFailure) =>
      shouldRetry({ idempotent: true, replayable: true, failure }) && mayRetry();
    if (outcome.kind === "client-left") return this.#clientLeft(read, finish);
    if (outcome.kind === "failed") return this.#failed(read, outcome, latencyMs, finish, retryable);
    return this.#answered(read, outcome, latencyMs, finish, retryable);
  }

  #clientLeft(read: LaneRead, finish: Finish): Verdict {
    this.#upstream.drop();
    finish("dropped");
    this.ctx.metrics.clientAborted();
    this.#log(read, 499, undefined, "client left");
    return false;
  }

  /** No whole answer: cut the client if part of it went out, else retry or answer 502. */
  #failed(
    read: LaneRead,
    outcome: Extract<Exchange, { kind: "failed" }>,
    latencyMs: number,
    finish: Finish,
    retryable: (failure: UpstreamFailure) => boolean,
  ): Verdict {
    const { ctx } = this;
    this.#upstream.drop();
    finish(this.#gone.signal.aborted ? "dropped" : "error");
    if (outcome.partial) {
      ctx.metrics.upstreamFailed();
      this.client.destroy();
      this.#log(read, outcome.status || 502, latencyMs, "daemon cut the response");
      return false;
    }
    if (retryable({ kind: "connection", code: outcome.code, reusedSocket: outcome.reusedSocket })) {
      ctx.metrics.retried();
      return RETRY;
    }
    ctx.metrics.upstreamFailed();
    const message = `berth proxy: cannot reach the Docker daemon at ${ctx.upstream.endpoint.url} (${outcome.code ?? outcome.message})`;
    ctx.metrics.status(502);
    this.client.write(rawError(502, message));
    this.#log(read, 502, undefined, message);
    return !read.clientClose;
  }

  /** A whole answer: relayed (a held-back error first, unless it is retried). */
  #answered(
    read: LaneRead,
    { reader, buffered }: Extract<Exchange, { kind: "answered" }>,
    latencyMs: number,
    finish: Finish,
    retryable: (failure: UpstreamFailure) => boolean,
  ): Verdict {
    const { ctx } = this;
    if (reader.close) this.#upstream.drop();
    const status = reader.status;
    if (buffered) {
      const all = Buffer.concat(buffered);
      const bodyStart = all.indexOf("\r\n\r\n") + 4;
      const message = apiMessageOf({ json: all.toString("utf8", bodyStart) }) ?? "";
      if (retryable({ kind: "status", status, message })) {
        finish(sampleOutcomeForStatus(status));
        ctx.metrics.retried();
        return RETRY;
      }
      this.client.write(all);
    }
    read.bytesOut = reader.bodyBytes;
    ctx.metrics.status(status);
    finish(sampleOutcomeForStatus(status));
    this.#log(read, status, latencyMs);
    return !(read.clientClose || reader.close);
  }

  /** The read's end: its bytes in the metrics, its line in the access log. */
  #log(
    read: LaneRead,
    status: number,
    latencyMs: number | undefined,
    note?: string,
    attempts = read.attempts,
  ): void {
    const { ctx } = this;
    ctx.metrics.bytes(0, read.bytesOut);
    if (!ctx.log) return;
    ctx.log({
      time: new Date().toISOString(),
      method: read.method,
      url: read.url,
      operation: read.request.operation,
      class: read.request.class,
      status,
      queuedMs: read.queuedMs,
      latencyMs,
      durationMs: performance.now() - read.started,
      attempts,
      bytesIn: 0,
      bytesOut: read.bytesOut,
      ...(note ? { note } : {}),
    });
  }
}
