// How a project's resources are named on the daemon. Names are derived from the project name so
// two runs of the same file never collide; ownership is read from labels, never from names.
import { ConfigError } from "../engine/errors.js";

/** Compose's rule for project names: lower-case letters, digits, `-` and `_`, starting with a letter or digit. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

function assertProjectName(name: string, where = "project name"): string {
  if (!PROJECT_NAME.test(name)) {
    throw new ConfigError(`Invalid ${where} \`${name}\``, {
      resource: name,
      hint: "Use lower-case letters, digits, `-` and `_`, starting with a letter or digit.",
    });
  }
  return name;
}

/** Makes any text usable as the start of a project name (`My App` -> `my-app`). */
export function sanitizeProjectBase(text: string): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+/, "")
    .replace(/-+$/, "");
  return cleaned || "berth";
}

/**
 * The project name for one run: the explicit one when given, else the file's `name` (or
 * `berth`) with the session id appended, so concurrent runs of one file stay apart.
 */
export function projectNameFor(input: { explicit?: string; fileName?: string; sessionId: string }): string {
  if (input.explicit !== undefined) return assertProjectName(input.explicit, "project name (-p)");
  return `${sanitizeProjectBase(input.fileName ?? "berth")}-${input.sessionId.slice(0, 8)}`;
}

/** `PROJECT-SERVICE-N`, N the replica's number (1 unless the service has replicas). */
export function containerNameFor(project: string, service: string, replica = 1): string {
  return `${project}-${service}-${replica}`;
}

export const DEFAULT_NETWORK = "default";

export function networkNameFor(project: string, network: string): string {
  return `${project}_${network}`;
}

export function volumeNameFor(project: string, volume: string): string {
  return `${project}_${volume}`;
}

/** `redis` + 6379 -> `REDIS_6379`; UDP ports get a `_UDP` suffix. */
export function endpointEnvName(service: string, port: number, protocol: "tcp" | "udp" = "tcp"): string {
  const base = `${service.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_${port}`;
  return protocol === "udp" ? `${base}_UDP` : base;
}
