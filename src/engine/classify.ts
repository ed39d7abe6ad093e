// Turns whatever the Docker client threw into one of berth's typed errors. Pure: the rules for
// which API answers are conflicts, transient faults or a missing daemon live here only.
import {
  AbortedError,
  BadRequestError,
  BerthError,
  ConflictError,
  type ConflictReason,
  DaemonUnavailableError,
  EngineError,
  NotFoundError,
  TransientError,
} from "./errors.js";

export interface RawEngineFailure {
  statusCode?: number;
  json?: unknown;
  reason?: string;
  message?: string;
  code?: string;
  name?: string;
}

export interface ClassifyContext {
  operation: string;
  endpoint: string;
  resource?: string;
}

const UNREACHABLE_CODES = new Set([
  "ENOENT",
  "ECONNREFUSED",
  "EACCES",
  "EPERM",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ESOCKETTIMEDOUT", "UND_ERR_SOCKET"]);

/** The Engine API's message from a failed call, however the client delivered it. */
export function apiMessageOf(failure: RawEngineFailure): string | undefined {
  const json = failure.json;
  if (json && typeof json === "object" && "message" in json && typeof json.message === "string") {
    return json.message;
  }
  if (typeof json === "string" && json.trim() !== "") {
    try {
      const parsed = JSON.parse(json) as { message?: unknown };
      if (typeof parsed.message === "string") return parsed.message;
    } catch {
      return json.trim();
    }
  }
  return undefined;
}

export function conflictReasonOf(message: string): ConflictReason {
  const m = message.toLowerCase();
  if (m.includes("is already in use")) return "name-in-use";
  if (m.includes("removal of container") && m.includes("already in progress")) return "removal-in-progress";
  if (m.includes("cannot remove a running container") || m.includes("stop the container before"))
    return "container-running";
  if (m.includes("in use") || m.includes("has active endpoints")) return "in-use";
  return "other";
}

/** True for answers that the guard may retry: the daemon was busy, not wrong. */
export function isTransientMessage(status: number | undefined, message: string): boolean {
  const m = message.toLowerCase();
  if (status === 503) return true;
  if (status === 500 && m.includes("device or resource busy")) return true;
  if (status === 409 && (m.includes("prune operation is already running") || m.includes("is restarting")))
    return true;
  return false;
}

function unreachableHint(endpoint: string): string {
  if (endpoint.startsWith("unix://")) {
    const path = endpoint.slice("unix://".length);
    return `Start the Docker daemon so that ${path} exists and answers, or set DOCKER_HOST to a daemon that does (in berth's own checkout: scripts/ensure-docker.sh as root).`;
  }
  return `Check that a Docker daemon listens at ${endpoint} (DOCKER_HOST), and for TLS that DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are right.`;
}

export function classifyEngineError(raw: unknown, context: ClassifyContext): BerthError {
  if (raw instanceof BerthError) return raw;
  const failure = (raw ?? {}) as RawEngineFailure;
  const details = { operation: context.operation, resource: context.resource, cause: raw };

  if (failure.name === "AbortError" || failure.code === "ABORT_ERR") {
    return new AbortedError(`${context.operation} was aborted`, details);
  }

  if (failure.code && UNREACHABLE_CODES.has(failure.code)) {
    return new DaemonUnavailableError(
      `Cannot reach the Docker daemon at ${context.endpoint} (${failure.code}) during ${context.operation}`,
      context.endpoint,
      { ...details, hint: unreachableHint(context.endpoint) },
    );
  }
  if (failure.code && RESET_CODES.has(failure.code)) {
    return new TransientError(
      `Connection to the Docker daemon failed during ${context.operation} (${failure.code})`,
      { ...details, hint: "The daemon dropped the connection; berth retries idempotent calls." },
    );
  }

  const status = failure.statusCode;
  const apiMessage = apiMessageOf(failure) ?? failure.reason ?? failure.message ?? "unknown error";
  const withApi = { ...details, status, apiMessage };
  const subject = context.resource ? ` ${context.resource}` : "";
  const text = `${context.operation}${subject}: ${apiMessage}`;

  if (status !== undefined && isTransientMessage(status, apiMessage)) {
    return new TransientError(text, withApi);
  }
  switch (status) {
    case 404:
      return new NotFoundError(text, withApi);
    case 409:
      return new ConflictError(text, conflictReasonOf(apiMessage), withApi);
    case 400:
      return new BadRequestError(text, withApi);
    case undefined:
      return new EngineError(text, withApi);
    default:
      return new EngineError(text, withApi);
  }
}
