// Turns whatever the Docker client threw into one of berth's typed errors. Pure: the rules for
// which API answers are conflicts, transient faults or a missing daemon live here only.
import type { DockerEndpoint } from "./docker-host.js";
import {
  AbortedError,
  BadRequestError,
  BerthError,
  ConflictError,
  type ConflictReason,
  DaemonUnavailableError,
  EngineError,
  NotFoundError,
  TlsError,
  type TlsProblem,
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
  /** Why that endpoint (`DOCKER_HOST`, `context ci via DOCKER_CONTEXT`); named in unreachable errors. */
  source?: string;
  /** The TLS material in use, when the endpoint is TLS: where it came from, whether it has a client pair. */
  tls?: { dir: string; clientCertificate: boolean };
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
  // transport.ts: the ssh process behind an ssh:// endpoint failed (login, host key, no docker).
  "BERTH_SSH_DIAL_FAILED",
]);
/** The TLS handshake failed: wrong CA, a certificate the other side refused, an expired one. */
const TLS_CODES = new Set([
  "EPROTO",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
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

const UNTRUSTED_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
]);

/**
 * Which TLS problem a connection failure is, from Node's certificate codes and OpenSSL's alert
 * texts (the daemon's side of a refusal arrives as an alert: `certificate required`, `bad
 * certificate`, `certificate expired`), or undefined when it is not a TLS failure.
 */
export function tlsProblemOf(failure: RawEngineFailure, clientCertificate: boolean): TlsProblem | undefined {
  const code = failure.code ?? "";
  const text = `${code} ${failure.message ?? ""}`.toLowerCase();
  if (UNTRUSTED_CODES.has(code)) return "server-untrusted";
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return "server-expired";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return "server-name-mismatch";
  if (/wrong[ _]version[ _]number|packet[ _]length[ _]too[ _]long|http[ _]request/.test(text))
    return "not-tls";
  if (/alert[ _]certificate[ _]expired/.test(text)) return "client-certificate-expired";
  if (/alert[ _]certificate[ _]required/.test(text)) return "client-certificate-missing";
  if (
    /alert[ _](bad[ _]certificate|unknown[ _]ca|certificate[ _]unknown|decrypt[ _]error|handshake[ _]failure)/.test(
      text,
    )
  ) {
    return clientCertificate ? "client-certificate-rejected" : "client-certificate-missing";
  }
  if (code === "EPROTO" || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_")) return "handshake";
  return undefined;
}

function tlsError(problem: TlsProblem, failure: RawEngineFailure, context: ClassifyContext): TlsError {
  const at = `${context.endpoint}${context.source ? ` (${context.source})` : ""}`;
  const dir = context.tls?.dir || "DOCKER_CERT_PATH";
  const said = failure.message ? `: ${failure.message}` : "";
  const texts: Record<TlsProblem, [string, string]> = {
    "server-untrusted": [
      `The daemon at ${at} presented a certificate that the CA in ${dir}/ca.pem did not sign`,
      "Use the ca.pem of the CA that signed this daemon's certificate (DOCKER_CERT_PATH, or the context's --docker ca=...).",
    ],
    "server-expired": [
      `The daemon at ${at} presented a certificate that has expired or is not valid yet`,
      "Renew the daemon's certificate (and check both clocks).",
    ],
    "server-name-mismatch": [
      `The daemon's certificate at ${at} does not name the host berth connected to${said}`,
      "Connect by a name or address the certificate lists (its subjectAltName).",
    ],
    "client-certificate-missing": [
      `The daemon at ${at} requires a client certificate, and berth has none to offer (no cert.pem and key.pem in ${dir})`,
      "Put the client's cert.pem and key.pem beside ca.pem (DOCKER_CERT_PATH or the context's TLS files).",
    ],
    "client-certificate-rejected": [
      `The daemon at ${at} rejected berth's client certificate (${dir}/cert.pem)${said}`,
      "Use a client certificate signed by the CA the daemon trusts (its --tlscacert).",
    ],
    "client-certificate-expired": [
      `The daemon at ${at} rejected berth's client certificate (${dir}/cert.pem) as expired`,
      "Issue a new client certificate from the daemon's CA.",
    ],
    "not-tls": [
      `TLS does not match at ${at}: one side speaks TLS and the other plain HTTP${said}`,
      "Set DOCKER_TLS_VERIFY (and DOCKER_CERT_PATH) for a TLS port, or unset DOCKER_TLS/DOCKER_TLS_VERIFY for a plain one.",
    ],
    handshake: [
      `The TLS handshake with the daemon at ${at} failed${said}`,
      "Check the certificates in DOCKER_CERT_PATH (or the context's) against the daemon's TLS settings.",
    ],
  };
  const [message, hint] = texts[problem];
  return new TlsError(`${message} (during ${context.operation})`, context.endpoint, problem, {
    operation: context.operation,
    resource: context.resource,
    cause: failure,
    source: context.source,
    hint,
  });
}

/** What classification needs to know about the endpoint a call went to. */
export function endpointContext(
  endpoint: DockerEndpoint,
): Pick<ClassifyContext, "endpoint" | "source" | "tls"> {
  const tls = endpoint.kind === "tcp" ? endpoint.tls : undefined;
  return {
    endpoint: endpoint.url,
    source: endpoint.source,
    ...(tls ? { tls: { dir: tls.dir, clientCertificate: Boolean(tls.cert && tls.key) } } : {}),
  };
}

function unreachableHint(endpoint: string, source: string | undefined): string {
  if (source?.startsWith("context ")) {
    const name = source.slice("context ".length).split(" ")[0];
    return `Check that the daemon of docker context ${name} answers (\`docker context inspect ${name}\`), or pick another context (DOCKER_CONTEXT, \`docker context use\`).`;
  }
  if (endpoint.startsWith("unix://")) {
    const path = endpoint.slice("unix://".length);
    return `Start the Docker daemon so that ${path} exists and answers, or set DOCKER_HOST to a daemon that does (in berth's own checkout: scripts/ensure-docker.sh as root).`;
  }
  const ssh = /^ssh:\/\/(?:([^@]+)@)?(.+?)(?::(\d+))?$/.exec(endpoint);
  if (ssh) {
    const command = `ssh${ssh[3] ? ` -p ${ssh[3]}` : ""} ${ssh[1] ? `${ssh[1]}@` : ""}${ssh[2]} docker system dial-stdio`;
    return `Check that \`${command}\` works from this machine (key, known host, BERTH_SSH_CONFIG, a docker CLI on the remote side).`;
  }
  return `Check that a Docker daemon listens at ${endpoint} (DOCKER_HOST), and for TLS that DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are right.`;
}

/** OpenSSL's reason ("tlsv13 alert certificate required") without its error-stack noise. */
function tlsReason(failure: RawEngineFailure): string {
  const message = failure.message ?? "";
  const alert = /SSL routines:[^:]*:([^:]+):/.exec(message)?.[1];
  if (alert) {
    const refused = /alert (certificate|bad certificate|unknown ca|handshake failure)/.test(alert);
    return refused ? `${alert} (the daemon refused the client certificate)` : alert;
  }
  return message.split("\n", 1)[0]!.trim() || (failure.code ?? "handshake failed");
}

export function classifyEngineError(raw: unknown, context: ClassifyContext): BerthError {
  if (raw instanceof BerthError) return raw;
  const failure = (raw ?? {}) as RawEngineFailure;
  const details = { operation: context.operation, resource: context.resource, cause: raw };

  if (failure.name === "AbortError" || failure.code === "ABORT_ERR") {
    return new AbortedError(`${context.operation} was aborted`, details);
  }

  if (context.tls) {
    const problem =
      tlsProblemOf(failure, context.tls.clientCertificate) ??
      (failure.statusCode === 400 && /http request to an https server/i.test(apiMessageOf(failure) ?? "")
        ? "not-tls"
        : undefined);
    if (problem) return tlsError(problem, failure, context);
  } else if (
    failure.statusCode === 400 &&
    /http request to an https server/i.test(apiMessageOf(failure) ?? "")
  ) {
    return tlsError("not-tls", failure, context);
  }

  if (failure.code && UNREACHABLE_CODES.has(failure.code)) {
    // An ssh failure's own words (its stderr) say more than any code.
    const why = failure.code.startsWith("BERTH_") && failure.message ? failure.message : failure.code;
    const from = context.source ? ` (from ${context.source})` : "";
    return new DaemonUnavailableError(
      `Cannot reach the Docker daemon at ${context.endpoint}${from}: ${why} during ${context.operation}`,
      context.endpoint,
      { ...details, source: context.source, hint: unreachableHint(context.endpoint, context.source) },
    );
  }
  if (failure.code && (TLS_CODES.has(failure.code) || failure.code.startsWith("ERR_SSL_"))) {
    return new DaemonUnavailableError(
      `TLS with the Docker daemon at ${context.endpoint} failed during ${context.operation}: ${tlsReason(failure)} (${failure.code})`,
      context.endpoint,
      {
        ...details,
        hint: "Check DOCKER_CERT_PATH's ca.pem (the CA that signed the daemon's certificate), cert.pem and key.pem (a client certificate the daemon's CA signed, not expired), and DOCKER_TLS_VERIFY.",
      },
    );
  }
  if (failure.code && RESET_CODES.has(failure.code)) {
    return new TransientError(
      `Connection to the Docker daemon at ${context.endpoint} failed during ${context.operation} (${failure.code})`,
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
  // Podman's compat API answers a taken name with 500 (`... is already in use`, `network name
  // ... already used: network already exists`), where Docker answers 409.
  if (
    status === 500 &&
    (conflictReasonOf(apiMessage) === "name-in-use" || /already (exists|used)/i.test(apiMessage))
  ) {
    return new ConflictError(text, "name-in-use", withApi);
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
