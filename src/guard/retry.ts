// Which failed calls the guard sends again, and how long it waits first. Pure: the rules are
// tested without a daemon. Only faults where the daemon was busy or the connection broke are
// retried; an answer that says the request was wrong (404, 409 name in use, 400) never is.
import type { EngineCall } from "../engine/engine.js";
import {
  AbortedError,
  BadRequestError,
  type BerthError,
  ConflictError,
  DaemonUnavailableError,
  NotFoundError,
  TimeoutError,
  TransientError,
} from "../engine/errors.js";
import type { RetrySettings } from "./config.js";
import type { PermitSample } from "./limiter.js";

export type RetryDecision =
  /** Send the same call again after a backoff. */
  | "retry"
  /** A create that failed transiently: the container may exist; look its name up first. */
  | "lookup"
  | "fail";

function causeCode(error: BerthError): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}

/** The connection failed before the daemon could have seen the request: always safe to resend. */
export function isRefused(error: unknown): boolean {
  return error instanceof DaemonUnavailableError && causeCode(error) === "ECONNREFUSED";
}

/** The connection broke mid-call (reset, pipe, socket timeout): the daemon may have acted. */
export function isConnectionFailure(error: unknown): boolean {
  return error instanceof TransientError && error.status === undefined;
}

/** Docker container names; anything else (an image reference) cannot be looked up as one. */
const CONTAINER_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function isContainerName(value: string | undefined): value is string {
  return value !== undefined && CONTAINER_NAME.test(value);
}

/** Decides what to do with a failed call. */
export function retryDecision(
  error: unknown,
  call: Pick<EngineCall, "operation" | "idempotent" | "resource">,
): RetryDecision {
  if (isRefused(error)) return "retry";
  if (!(error instanceof TransientError)) return "fail";
  // An answer ("busy": 503, 500 device busy, 409 prune running or restarting) means the daemon
  // did nothing; a broken connection means it may have acted.
  const answered = !isConnectionFailure(error);
  if (call.operation === "container.create") {
    // Never blindly: a named create is looked up first; a nameless one only goes again after an answer.
    if (isContainerName(call.resource)) return "lookup";
    return answered ? "retry" : "fail";
  }
  return answered || call.idempotent ? "retry" : "fail";
}

/** Exponential backoff with full jitter: a random wait up to min(cap, base * 2^(attempt-1)). */
export function backoffDelay(
  attempt: number,
  settings: RetrySettings,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return random() * ceiling;
}

/** What a failed call tells the limiter about the daemon's load. */
export function sampleOutcomeOf(error: unknown): PermitSample["outcome"] {
  if (error instanceof AbortedError) return "dropped";
  if (error instanceof TimeoutError) return "timeout";
  // Answers about the request, not the daemon's health: fast, and no sign of load.
  if (error instanceof NotFoundError || error instanceof ConflictError || error instanceof BadRequestError) {
    return "dropped";
  }
  return "error";
}

/** The same classification for a raw HTTP answer (the proxy's view). */
export function sampleOutcomeForStatus(status: number): PermitSample["outcome"] {
  if (status >= 500) return "error";
  if (status >= 400) return "dropped";
  return "ok";
}
