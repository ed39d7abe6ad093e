// `startProxy`: one Docker API socket in front of the daemon that gives every client (docker CLI,
// Compose, Testcontainers, test workers) the guard's limiter, the safe-removal rewrite, an
// optional policy and metrics.
import { existsSync, unlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { join } from "node:path";
import { type DockerEndpoint, type DockerEnv, resolveDockerEndpoint } from "../engine/docker-host.js";
import { Engine, type EngineInterceptor } from "../engine/engine.js";
import { type RetryOptions, type RetrySettings, resolveRetrySettings } from "../guard/config.js";
import { guardEngine } from "../guard/guard.js";
import { createLimiter, type Limiter, type LimiterConfig } from "../guard/limiter.js";
import { bind } from "./bind.js";
import { createFastLane, type FastLane, serveFast } from "./fast-lane.js";
import { handleRequest, handleUpgrade } from "./handle-request.js";
import { sendRawError } from "./http-messages.js";
import { limiterView } from "./limiter-view.js";
import {
  dockerHostFor,
  type ListenAddress,
  ListenAddressError,
  parseListenAddress,
  runtimeDir,
} from "./listen-address.js";
import { ProxyMetrics, type ProxyMetricsSnapshot } from "./metrics.js";
import type { ProxyPolicy } from "./policy.js";
import type { ProxyContext, ProxyLogEntry } from "./proxy-context.js";
import { MAX_HEAD_BYTES } from "./raw-http.js";
import { podmanDetector } from "./stop-timeout.js";
import { createUpstream } from "./upstream.js";

export interface ProxyOptions {
  /** `unix:///PATH` or `tcp://127.0.0.1:PORT`; default: a fresh socket in the per-user runtime directory. */
  listen?: string;
  /** Accept a non-loopback TCP address (anyone who reaches it controls the daemon). */
  allowRemote?: boolean;
  /** The daemon, as a DOCKER_HOST value; default: DOCKER_HOST from `env`. */
  upstream?: string;
  /** Environment for DOCKER_HOST, TLS and limiter settings (default: process.env). */
  env?: DockerEnv;
  /** A policy, or the path of a policy file; default: no policy. */
  policy?: ProxyPolicy | string;
  /** Turn `DELETE /containers/{id}?force=1` on running containers into graceful removals (default true). */
  rewriteForceRemoval?: boolean;
  /** Cap on the rewrite's grace period in seconds (default: the container's StopTimeout, else 10). */
  maxGraceSeconds?: number;
  /**
   * The limiter every request passes: a limiter to share (with engines in the same process), or
   * options for a new one. Default: the guard's limiter configured from `env` (BERTH_LIMITER...).
   */
  limiter?: Limiter | Omit<LimiterConfig, "env">;
  /** Largest spec body (create, exec, network, volume) the proxy accepts, in bytes (default 8 MiB). */
  maxBodyBytes?: number;
  /**
   * Retries of transient failures: the guard's policy (`BERTH_RETRY_MAX_ATTEMPTS`,
   * `BERTH_RETRY_DEADLINE_MS` from `env`); `false` sends every request once.
   */
  retry?: RetryOptions | false;
  /** Attempts per request, the first included: a shorthand for `retry.maxAttempts`. */
  maxAttempts?: number;
  /**
   * How long a client may take to send a request's headers before it is answered 408 and cut
   * (ms, default 10 000; 0 turns the deadline off). A slow client holds only its own connection.
   */
  headersTimeoutMs?: number;
  /** Largest request head the proxy reads, in bytes (default 16 KiB); a larger one is answered 431. */
  maxHeaderBytes?: number;
  /** How long `close()` lets requests and streams finish before cutting them (ms, default 5000). */
  drainTimeoutMs?: number;
  /** Called once per request, after it ends. */
  log?: (entry: ProxyLogEntry) => void;
}

export interface RunningProxy {
  /** The DOCKER_HOST value that reaches the proxy. */
  readonly dockerHost: string;
  /** The daemon the proxy relays to. */
  readonly upstream: string;
  metrics(): ProxyMetricsSnapshot;
  /** Stops accepting, lets requests finish up to the drain timeout, cuts the rest, removes the socket. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

function isLimiter(value: unknown): value is Limiter {
  return typeof (value as Limiter | undefined)?.acquire === "function";
}

/**
 * The rewrite's engine: guarded with the proxy's limiter (and the guard's retries), and counted in
 * the proxy's in-flight figures once dispatched.
 */
function rewriteEngine(
  dockerHost: string,
  env: DockerEnv,
  limiter: Limiter,
  retry: RetrySettings,
  metrics: ProxyMetrics,
): { engine: Engine; retries: () => number } {
  const engine = new Engine({ dockerHost, env });
  const guard = guardEngine(engine, { limiter, retry, env });
  // Added after the guard, so it runs inside it: once per dispatch, after the permit.
  const counted: EngineInterceptor = async (call, next) => {
    metrics.dispatched(call.class);
    const t0 = performance.now();
    try {
      return await next();
    } finally {
      metrics.finished(call.class, call.class === "stream" ? undefined : performance.now() - t0);
    }
  };
  engine.use(counted);
  return { engine, retries: () => guard.metrics.snapshot().retries };
}

export function defaultListenAddress(
  env: DockerEnv = process.env,
  name = `proxy-${process.pid}.sock`,
): string {
  return `unix://${join(runtimeDir(env), name)}`;
}

/**
 * Starts the proxy: where it listens and relays to, what every request shares, the HTTP server for
 * the full path, the listener that gives each connection to the fast lane, then the bind.
 */
export async function startProxy(options: ProxyOptions = {}): Promise<RunningProxy> {
  const env = options.env ?? process.env;
  const { upstreamEndpoint, address } = resolveAddresses(options, env);
  const ctx = await createContext(options, env, upstreamEndpoint);
  const server = createFullPathServer(ctx, options);
  const accepted = acceptConnections(ctx, server);
  const actual = await bind(accepted.listener, address).catch((error: unknown) => {
    ctx.upstream.close();
    throw error;
  });
  let closing: Promise<void> | undefined;
  return {
    dockerHost: dockerHostFor(actual),
    upstream: upstreamEndpoint.url,
    metrics: () => ctx.metrics.snapshot(),
    close: () => {
      closing ??= drain(ctx, server, accepted, actual, options.drainTimeoutMs ?? 5_000);
      return closing;
    },
  };
}

/** The daemon's endpoint and the proxy's own address, refusing a proxy that would relay to itself. */
function resolveAddresses(options: ProxyOptions, env: DockerEnv) {
  const upstreamEndpoint = resolveDockerEndpoint({
    ...env,
    DOCKER_HOST: options.upstream ?? env.DOCKER_HOST,
  });
  const address = parseListenAddress(options.listen ?? defaultListenAddress(env), {
    allowRemote: options.allowRemote,
  });
  if (
    address.kind === "unix" &&
    upstreamEndpoint.kind === "unix" &&
    upstreamEndpoint.socketPath === address.path
  ) {
    throw new ListenAddressError(`The proxy cannot listen on its own upstream ${upstreamEndpoint.url}`, {
      resource: address.path,
      hint: "Set --upstream (or DOCKER_HOST) to the daemon's socket, not the proxy's.",
    });
  }
  return { upstreamEndpoint, address };
}

/** What every request shares: the daemon, policy, limiter, retry policy, metrics, the rewrite's engine. */
async function createContext(
  options: ProxyOptions,
  env: DockerEnv,
  upstreamEndpoint: DockerEndpoint,
): Promise<ProxyContext> {
  // The file reader brings YAML and schema parsing, which a proxy without a policy file never needs.
  const policy =
    typeof options.policy === "string"
      ? (await import("./policy-file.js")).loadPolicyFile(options.policy)
      : options.policy;
  const limiter = isLimiter(options.limiter) ? options.limiter : createLimiter({ ...options.limiter, env });
  const retry = resolveRetrySettings(
    options.maxAttempts === undefined || options.retry === false
      ? options.retry
      : { ...options.retry, maxAttempts: options.maxAttempts },
    env,
  );
  let rewriteRetries = () => 0;
  const metrics = new ProxyMetrics(
    () => {
      const raw = limiter.snapshot();
      return { view: limiterView(raw), raw };
    },
    () => rewriteRetries(),
  );
  const upstream = createUpstream(upstreamEndpoint);
  const ctx: ProxyContext = {
    upstream,
    limiter,
    metrics,
    policy,
    rewrite: undefined,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
    isPodman: podmanDetector(upstream),
    dispatch: { limiter, retry },
    log: options.log,
  };
  if (options.rewriteForceRemoval !== false) {
    const rewrite = rewriteEngine(upstreamEndpoint.url, env, limiter, retry, metrics);
    ctx.rewrite = { engine: rewrite.engine, maxGraceSeconds: options.maxGraceSeconds };
    rewriteRetries = rewrite.retries;
  }
  return ctx;
}

/**
 * The HTTP server of the full path (bodies, upgrades, streams, denials). It never listens: it gets
 * the connections the fast lane hands over.
 */
function createFullPathServer(ctx: ProxyContext, options: ProxyOptions): Server {
  // No request or keep-alive deadline a build upload or a log stream could hit; headers only.
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const server = createServer({
    requestTimeout: 0,
    headersTimeout,
    // Node checks the header deadline only this often (30 s by default).
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, headersTimeout / 4)),
    maxHeaderSize: options.maxHeaderBytes ?? MAX_HEAD_BYTES,
    keepAliveTimeout: 5_000,
    noDelay: true,
  });
  // Node starts tracking connections (header timeouts, closeIdleConnections) on "listening".
  server.emit("listening");
  server.on("request", (req, res) => {
    handleRequest(ctx, req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : undefined);
    });
  });
  server.on("upgrade", (req, socket, head) => {
    handleUpgrade(ctx, req, socket, head).catch(() => socket.destroy());
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    // A client hanging up between requests is not a bad request.
    if (error.code === "ECONNRESET" || error.code === "EPIPE" || !socket.writable) {
      socket.destroy();
      return;
    }
    ctx.metrics.badRequest();
    const status =
      error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    sendRawError(socket, status, `berth proxy: malformed HTTP request (${error.code ?? error.message})`);
  });
  return server;
}

/** The listener and the connections it took; once `closing`, new ones go straight to the full path. */
interface Accepted {
  listener: NetServer;
  sockets: Set<Socket>;
  lane: FastLane;
  closing: boolean;
}

/** Each connection starts in the fast lane, which hands it to `server` when a request needs that. */
function acceptConnections(ctx: ProxyContext, server: Server): Accepted {
  const handOver = (socket: Socket, pending: Buffer) => {
    if (pending.length > 0) socket.unshift(pending);
    server.emit("connection", socket);
    socket.resume();
  };
  // Half-open connections stay open: attach relays stdin's end to the container, then its output.
  const listener = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    accepted.sockets.add(socket);
    socket.once("close", () => accepted.sockets.delete(socket));
    if (accepted.closing) handOver(socket, Buffer.alloc(0));
    else serveFast(ctx, accepted.lane, socket, handOver);
  });
  const accepted: Accepted = {
    listener,
    sockets: new Set(),
    lane: createFastLane(ctx),
    closing: false,
  };
  return accepted;
}

/** Stops accepting, closes connections as they go idle, cuts the rest after the drain timeout. */
async function drain(
  ctx: ProxyContext,
  server: Server,
  accepted: Accepted,
  actual: ListenAddress,
  drainTimeoutMs: number,
): Promise<void> {
  accepted.closing = true;
  const closed = new Promise<void>((resolve) => accepted.listener.close(() => resolve()));
  server.close();
  // Keep-alive connections become idle as their last response ends; close each as it does.
  const closeIdle = () => {
    server.closeIdleConnections();
    for (const { socket, idle } of accepted.lane.connections) if (idle()) socket.destroy();
  };
  closeIdle();
  const sweep = setInterval(closeIdle, 50);
  const timer = setTimeout(() => {
    for (const socket of accepted.sockets) socket.destroy();
  }, drainTimeoutMs);
  await closed;
  clearInterval(sweep);
  clearTimeout(timer);
  accepted.lane.upstreams.close();
  ctx.upstream.close();
  if (actual.kind === "unix" && existsSync(actual.path)) unlinkSync(actual.path);
}
