// What a failed pull means, read from the daemon's message (the registry's answer as the daemon
// passed it on, in an HTTP error or as an error object in the pull stream). Pure: the rules for
// which failures are retried live here only.
//   rate-limited: 429 / toomanyrequests: retried, after Retry-After when the registry gives one
//   transient: 5xx, resets, timeouts, cut or truncated streams: retried with the guard's backoff
//   auth: 401 / 403 / denied / no credentials: never retried
//   not-found: manifest unknown, no such repository or tag: never retried
//   other: anything else: not retried
import type { BerthError } from "../engine/errors.js";
import { ImageNotFoundError, ImagePullError, RateLimitedError, RegistryAuthError } from "./errors.js";
import type { ImageReference } from "./reference.js";
import { redactSecrets } from "./secrets.js";

type PullFailureKind = "rate-limited" | "transient" | "auth" | "not-found" | "other";

const RULES: [PullFailureKind, RegExp][] = [
  ["rate-limited", /toomanyrequests|too many requests|\b429\b|rate limit/i],
  [
    "auth",
    /unauthorized|authentication required|no basic auth credentials|access denied|denied:|forbidden|\b40[13]\b/i,
  ],
  ["not-found", /manifest unknown|name unknown|not found|repository does not exist|does not exist/i],
  [
    "transient",
    /\b50[0234]\b|service unavailable|bad gateway|gateway timeout|internal server error|connection reset|broken pipe|unexpected eof|\beof\b|i\/o timeout|timeout|connection refused|temporary failure|stream ended early/i,
  ],
];

export function pullFailureKind(message: string, status?: number): PullFailureKind {
  for (const [kind, pattern] of RULES) if (pattern.test(message)) return kind;
  if (status === 404) return "not-found";
  return "other";
}

export function isRetryable(kind: PullFailureKind): boolean {
  return kind === "rate-limited" || kind === "transient";
}

/** The daemon's words for a failure, without berth's own prefix. */
export function messageOf(error: unknown): string {
  const e = error as BerthError;
  return redactSecrets(e?.apiMessage ?? e?.message ?? String(error));
}

/** The typed error for a pull that failed (finally) with `kind`: names the registry, image and what to check. */
export function pullError(
  ref: ImageReference,
  kind: PullFailureKind,
  error: unknown,
  facts: { attempts: number; authenticated: boolean; retryAfterMs?: number },
): ImagePullError {
  const said = messageOf(error);
  const where = `${ref.raw} from ${ref.registry}`;
  const tries = facts.attempts > 1 ? ` after ${facts.attempts} attempts` : "";
  const details = {
    registry: ref.registry,
    resource: ref.raw,
    operation: "image.pull",
    apiMessage: said,
    status: (error as BerthError)?.status,
  };
  switch (kind) {
    case "auth":
      return new RegistryAuthError(`Pulling ${where} was refused: ${said}`, {
        ...details,
        hint: facts.authenticated
          ? `The registry refused the credentials berth found for ${ref.registry}: check the login (docker login ${ref.registry}) and that this user may pull ${ref.repository}.`
          : `berth found no credentials for ${ref.registry} (DOCKER_CONFIG or ~/.docker/config.json): log in (docker login ${ref.registry}), or check the name if the image is public.`,
      });
    case "not-found":
      return new ImageNotFoundError(`Image ${where} not found: ${said}`, {
        ...details,
        hint: `Check the repository name (${ref.repository}) and the tag (${ref.tag ?? ref.digest ?? "latest"}); a private repository may also answer this without a login.`,
      });
    case "rate-limited":
      return new RateLimitedError(
        `${ref.registry} rate-limited the pull of ${ref.raw}${tries}: ${said}`,
        facts.retryAfterMs,
        {
          ...details,
          hint:
            facts.retryAfterMs !== undefined
              ? `The registry asked to wait ${Math.ceil(facts.retryAfterMs / 1000)} s. Log in for a higher limit, use a mirror, or prefetch images once (berth pull).`
              : "Log in for a higher limit, use a registry mirror, or prefetch images once per machine (berth pull).",
        },
      );
    default:
      return new ImagePullError(`Pulling ${where} failed${tries}: ${said}`, {
        ...details,
        hint: `Check that ${ref.registry} is reachable from the Docker daemon, or build the image locally.`,
      });
  }
}
