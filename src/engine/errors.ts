// berth's error hierarchy. Every error has a stable `code` that scripts can test, keeps the
// API's status and message and the operation it came from, and says what to do in `hint`.

export interface BerthErrorDetails {
  /** The engine operation that failed, e.g. `container.remove`. */
  operation?: string;
  /** HTTP status the Engine API answered with, when there was an answer. */
  status?: number;
  /** The Engine API's own message, verbatim. */
  apiMessage?: string;
  /** What the error is about: a container name or id, a file, a port. */
  resource?: string;
  /** What a person can do about it. */
  hint?: string;
  cause?: unknown;
}

/**
 * The one way berth's errors are built: `BerthError` with its details, and a subclass's own facts
 * (a conflict's reason, a leak list) set with `withFacts`, which also puts them in `toJSON`. A
 * subclass declares those fields (`declare readonly reason: ...`) and never assigns them itself.
 */
export class BerthError extends Error {
  readonly code: string = "BERTH_ERROR";
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  readonly operation: string | undefined;
  readonly status: number | undefined;
  readonly apiMessage: string | undefined;
  readonly resource: string | undefined;
  readonly hint: string | undefined;
  /** The facts `withFacts` set that `toJSON` adds, in order. */
  readonly #jsonFacts: string[] = [];

  constructor(message: string, details: BerthErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.operation = details.operation;
    this.status = details.status;
    this.apiMessage = details.apiMessage;
    this.resource = details.resource;
    this.hint = details.hint;
  }

  /** Sets a subclass's own fields; `json: false` keeps them out of `toJSON` (a build log). */
  protected withFacts(facts: Record<string, unknown>, options: { json?: boolean } = {}): void {
    Object.assign(this, facts);
    if (options.json !== false) this.#jsonFacts.push(...Object.keys(facts));
  }

  /** A plain object for `--json` output and logs. */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
      operation: this.operation,
      status: this.status,
      apiMessage: this.apiMessage,
      resource: this.resource,
      hint: this.hint,
    };
    for (const fact of this.#jsonFacts) json[fact] = (this as unknown as Record<string, unknown>)[fact];
    return json;
  }
}

/** An error about reaching the daemon; `source` says why berth used that endpoint. */
type EndpointErrorDetails = BerthErrorDetails & { source?: string };

/** The daemon cannot be reached: socket missing, connection refused, permission denied. */
export class DaemonUnavailableError extends BerthError {
  override readonly code: string = "BERTH_DAEMON_UNAVAILABLE";
  override readonly exitCode = 3;
  /** Where berth tried to reach the daemon (`unix:///var/run/docker.sock`, `tcp://...`). */
  declare readonly endpoint: string;
  /** Why that endpoint: `DOCKER_HOST`, `context ci via DOCKER_CONTEXT`, `the default socket`. */
  declare readonly source: string | undefined;
  constructor(message: string, endpoint: string, details: EndpointErrorDetails = {}) {
    super(message, details);
    this.withFacts({ endpoint, source: details.source });
  }
}

/**
 * The daemon went away while an operation worked with it: it stopped accepting connections (a
 * restart, a stop) in the middle of an `up` or a `down`. `cause` is what the operation met first,
 * often a consequence (a service the shutting-down daemon stopped "exited with code 0").
 */
export class DaemonWentAwayError extends DaemonUnavailableError {
  override readonly code = "BERTH_DAEMON_WENT_AWAY";
  /** Whether berth saw the daemon answer again and finished removing what it had to. */
  declare readonly cleanedUp: boolean;
  constructor(message: string, endpoint: string, cleanedUp: boolean, details: EndpointErrorDetails = {}) {
    super(message, endpoint, details);
    this.withFacts({ cleanedUp });
  }
}

export type TlsProblem =
  | "server-untrusted"
  | "server-expired"
  | "server-name-mismatch"
  | "client-certificate-missing"
  | "client-certificate-rejected"
  | "client-certificate-expired"
  | "not-tls"
  | "handshake";

/** The TLS handshake with the daemon failed; `problem` says which side's certificate and why. */
export class TlsError extends DaemonUnavailableError {
  override readonly code = "BERTH_TLS";
  declare readonly problem: TlsProblem;
  constructor(message: string, endpoint: string, problem: TlsProblem, details: EndpointErrorDetails = {}) {
    super(message, endpoint, details);
    this.withFacts({ problem });
  }
}

/** The Engine API answered 404 for the resource. */
export class NotFoundError extends BerthError {
  override readonly code = "BERTH_NOT_FOUND";
}

export type ConflictReason = "name-in-use" | "removal-in-progress" | "container-running" | "in-use" | "other";

/** The Engine API answered 409. `reason` says which conflict. */
export class ConflictError extends BerthError {
  override readonly code = "BERTH_CONFLICT";
  declare readonly reason: ConflictReason;
  constructor(message: string, reason: ConflictReason, details: BerthErrorDetails = {}) {
    super(message, details);
    this.withFacts({ reason });
  }
}

/** A failure that may pass if the same call is tried again a little later. */
export class TransientError extends BerthError {
  override readonly code = "BERTH_TRANSIENT";
}

/** The Engine API refused the request as malformed (400). */
export class BadRequestError extends BerthError {
  override readonly code = "BERTH_BAD_REQUEST";
}

/** The Engine API failed in a way berth does not classify further (most 500s). */
export class EngineError extends BerthError {
  override readonly code = "BERTH_ENGINE";
}

/** A call was cancelled through its AbortSignal. */
export class AbortedError extends BerthError {
  override readonly code = "BERTH_ABORTED";
}

/** A bounded wait ran out. */
export class TimeoutError extends BerthError {
  override readonly code = "BERTH_TIMEOUT";
}

/** Bad configuration or usage: a malformed file, an unknown service, an invalid size. Exit 2. */
export class ConfigError extends BerthError {
  override readonly code: string = "BERTH_CONFIG";
  override readonly exitCode = 2;
}

/** An image build failed; `log` holds the tail of the build output. */
export class BuildFailedError extends BerthError {
  override readonly code = "BERTH_BUILD_FAILED";
  declare readonly log: string;
  constructor(message: string, log: string, details: BerthErrorDetails = {}) {
    super(message, details);
    this.withFacts({ log }, { json: false });
  }
}

/** The daemon answered a pull with 200 and then reported an error inside its progress stream. */
export class PullStreamError extends BerthError {
  override readonly code = "BERTH_PULL_STREAM";
  declare readonly errorDetail: { code?: number; message?: string } | undefined;
  constructor(
    message: string,
    details: BerthErrorDetails & { errorDetail?: { code?: number; message?: string } } = {},
  ) {
    super(message, details);
    this.withFacts({ errorDetail: details.errorDetail }, { json: false });
  }
}

export function isBerthError(error: unknown): error is BerthError {
  return error instanceof BerthError;
}
