// The guard: one interceptor on the engine that every Docker API call passes. It waits for a
// limiter slot, measures the call, feeds the adaptive law, retries what is transient with
// exponential backoff and full jitter, and never blindly repeats a create. `createEngine` is how
// berth and its users get an engine: already guarded.
import type { Readable } from "node:stream";
import { Engine, type EngineCall, type EngineInterceptor, type EngineOptions } from "../engine/engine.js";
import { BerthError, ConflictError } from "../engine/errors.js";
import {
  type Env,
  type LimiterMode,
  type LimiterOptions,
  type LogOptions,
  type RetryOptions,
  type RetrySettings,
  resolveLogSettings,
  resolveRetrySettings,
} from "./config.js";
import { type DispatchAttempt, guardedDispatch, RETRY } from "./dispatch.js";
import { createLimiter, type Limiter } from "./limiter.js";
import { createGuardLog, type GuardLog, type LogSink } from "./log.js";
import { createGuardMetrics, type GuardMetrics } from "./metrics.js";
import { retryDecision, sampleOutcomeOf } from "./retry.js";

export interface GuardOptions {
  /** A mode, limiter options, or a limiter to share with other engines (or the proxy). */
  limiter?: LimiterMode | LimiterOptions | Limiter;
  /** Retry policy; `false` sends every call once. */
  retry?: RetryOptions | false;
  /** Debug log; `true` is debug to stderr. */
  log?: LogOptions | boolean;
  /** Where log lines go instead of stderr or the file. */
  logSink?: LogSink;
  /** The CLI's `--verbose`: turns the debug log on. */
  verbose?: boolean;
  /** Environment variables to read (default process.env). */
  env?: Env;
  /** Source of the backoff jitter, in [0, 1) (default Math.random). */
  random?: () => number;
}

export interface GuardedEngine {
  readonly engine: Engine;
  readonly limiter: Limiter;
  readonly metrics: GuardMetrics;
  readonly log: GuardLog;
  readonly retry: RetrySettings;
}

/** A create's lookup accepts a container created at most this long before the call began (clock skew). */
const CREATED_SLACK_MS = 5_000;

/** What one guarded call has been through so far, for its metrics and log line. */
interface CallState {
  retries: number;
  queuedMs: number;
  /** A create's connection broke: a later 409 for its name may be its own container. */
  createMayExist: boolean;
  recovered: boolean;
}

const guards = new WeakMap<Engine, GuardedEngine>();

/** The guard installed on `engine`, if any: its limiter, metrics and log. */
export function guardOf(engine: Engine): GuardedEngine | undefined {
  return guards.get(engine);
}

function isLimiter(value: unknown): value is Limiter {
  return typeof (value as Limiter | undefined)?.acquire === "function";
}

function isStream(value: unknown): value is Readable {
  return (
    typeof (value as Readable | null)?.once === "function" && typeof (value as Readable).pipe === "function"
  );
}

/**
 * Installs the guard on an engine: limiter, classified retries, metrics and the debug log.
 * An engine is guarded once; guarding it again answers the existing guard.
 */
export function guardEngine(engine: Engine, options: GuardOptions = {}): GuardedEngine {
  const existing = guards.get(engine);
  if (existing) return existing;
  const env = options.env ?? process.env;
  const limiter = isLimiter(options.limiter)
    ? options.limiter
    : createLimiter({
        ...(typeof options.limiter === "string" ? { mode: options.limiter } : options.limiter),
        env,
      });
  const retry = resolveRetrySettings(options.retry, env);
  const log = createGuardLog(resolveLogSettings(options.log, env, options.verbose), options.logSink);
  const metrics = createGuardMetrics(limiter);
  const random = options.random ?? Math.random;

  engine.observe((record) => metrics.recordDispatch(record));
  if (log.enabled) limiter.onLimitChange((change) => log.limit(change));

  /** Finds the container an interrupted create may have made: same name, created since the call began. */
  const findOwnCreate = async (call: EngineCall, since: number): Promise<string | undefined> => {
    const info = await engine.findContainer(call.resource!, call.signal);
    if (!info) return undefined;
    return Date.parse(info.Created) >= since - CREATED_SLACK_MS ? info.Id : undefined;
  };

  const interceptor: EngineInterceptor = async <T>(call: EngineCall, next: () => Promise<T>): Promise<T> => {
    // The client's one-time import happens before any timing: it is neither queueing nor latency.
    await engine.connect();
    const began = performance.now();
    const beganAt = Date.now();
    const state: CallState = { retries: 0, queuedMs: 0, createMayExist: false, recovered: false };
    const finish = (error?: unknown) => {
      const errorCode =
        error instanceof BerthError ? error.code : error === undefined ? undefined : "BERTH_INTERNAL";
      const { retries, queuedMs, recovered } = state;
      metrics.recordCall({
        class: call.class,
        operation: call.operation,
        ok: !error,
        errorCode,
        retries,
        queuedMs,
      });
      if (recovered) metrics.recordRecoveredCreate();
      if (log.enabled) {
        log.call({
          operation: call.operation,
          class: call.class,
          resource: call.resource,
          queuedMs,
          durationMs: performance.now() - began - queuedMs,
          outcome: error ? "error" : "ok",
          retries,
          ...(errorCode ? { errorCode } : {}),
          ...(recovered ? { recovered } : {}),
        });
      }
    };
    try {
      const value = await guardedDispatch({ limiter, retry, random }, call, (attempt) =>
        attemptCall(call, next, attempt, state, beganAt),
      );
      finish();
      return value;
    } catch (error) {
      finish(error);
      throw error;
    }
  };

  /** One attempt of a call in its limiter slot: dispatch, release, and decide what follows a failure. */
  const attemptCall = async <T>(
    call: EngineCall,
    next: () => Promise<T>,
    { number, permit, delayMs, mayRetry }: DispatchAttempt,
    state: CallState,
    beganAt: number,
  ): Promise<T | typeof RETRY> => {
    state.retries = number - 1;
    state.queuedMs += permit.queuedMs;
    const dispatched = performance.now();
    let failure: unknown;
    try {
      const value = await next();
      if (call.class === "stream" && isStream(value)) {
        // An open stream counts until it closes; it is never a latency sample.
        value.once("close", () => permit.release({ latencyMs: 0, outcome: "dropped" }));
      } else {
        permit.release({
          latencyMs: performance.now() - dispatched,
          outcome: "ok",
          operation: call.operation,
        });
      }
      return value;
    } catch (error) {
      permit.release({
        latencyMs: performance.now() - dispatched,
        outcome: call.class === "stream" ? "dropped" : sampleOutcomeOf(error),
        operation: call.operation,
      });
      failure = error;
    }
    const recovered = (id: string): T => {
      state.recovered = true;
      // Said in the answer: the caller may check that the container found is its own.
      return { id, recovered: true } as T;
    };

    // After a broken connection our first create may have gone through: this 409 is ours.
    if (state.createMayExist && failure instanceof ConflictError && failure.reason === "name-in-use") {
      const id = await findOwnCreate(call, beganAt).catch(() => undefined);
      if (id) return recovered(id);
    }
    let decision = retryDecision(failure, call);
    if (decision === "lookup") {
      state.createMayExist = true;
      let id: string | undefined;
      try {
        id = await findOwnCreate(call, beganAt);
      } catch {
        // Without knowing whether the container exists, creating again is not safe.
        throw failure;
      }
      if (id) return recovered(id);
      decision = "retry";
    }
    if (decision === "fail" || !mayRetry()) throw failure;
    // A call its caller aborted (a readiness wait that is over) ends with an AbortedError in the
    // dispatch's wait: no retry follows, so none is logged.
    if (log.enabled && !call.signal?.aborted) {
      log.retry({
        operation: call.operation,
        attempt: number,
        delayMs,
        errorCode: failure instanceof BerthError ? failure.code : "BERTH_INTERNAL",
      });
    }
    return RETRY;
  };

  engine.use(interceptor);
  const guarded: GuardedEngine = { engine, limiter, metrics, log, retry };
  guards.set(engine, guarded);
  return guarded;
}

/** A new engine, already guarded: what berth itself and library users call. */
export function createEngine(options: GuardOptions & EngineOptions = {}): Engine {
  const { dockerHost, env, ...guard } = options;
  const engine = new Engine({ dockerHost, env });
  guardEngine(engine, { ...guard, env });
  return engine;
}
