// Is the process that owns a resource still alive? On this host the answer is checked (pid exists
// and has the start time recorded in the label, so a recycled pid is not the owner); for another
// host berth cannot know, and callers decide what an unknown owner means for them.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { LABELS, type OwnerIdentity, parseOwner, processStartTime } from "./labels.js";

/**
 * `alive`/`dead`: checked on this host. `foreign`: owned from another host. `unknown`: no
 * readable `berth.owner` label.
 */
export type OwnerState = "alive" | "dead" | "foreign" | "unknown";

export interface OwnershipOptions {
  /** The host name to compare with (default: this host's). */
  host?: string;
  /** Answer `true` for owners on other hosts and unreadable owners (default true: never touch what cannot be checked). */
  foreignAlive?: boolean;
}

type OwnerLike = Record<string, string> | OwnerIdentity | string | undefined;

function isOwnerIdentity(value: object): value is OwnerIdentity {
  const v = value as Partial<OwnerIdentity>;
  return typeof v.pid === "number" && typeof v.host === "string" && typeof v.startTime === "string";
}

/** Reads an owner from a resource's labels, an owner label value, or an identity. */
export function ownerOf(value: OwnerLike): OwnerIdentity | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return parseOwner(value);
  if (isOwnerIdentity(value)) return value;
  return parseOwner((value as Record<string, string>)[LABELS.owner]);
}

/** Without /proc (not Linux) there are no start times: fall back to "the pid exists". */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function ownerState(value: OwnerLike, options: OwnershipOptions = {}): OwnerState {
  const owner = ownerOf(value);
  if (!owner) return "unknown";
  if (owner.host !== (options.host ?? hostname())) return "foreign";
  if (!existsSync("/proc/self/stat")) return pidExists(owner.pid) ? "alive" : "dead";
  const startTime = processStartTime(owner.pid);
  return startTime !== undefined && startTime === owner.startTime ? "alive" : "dead";
}

/**
 * True when the owner is alive, or cannot be checked from here and `foreignAlive` (the default)
 * says to assume so. gc, the stack's leftover check and address-pool recovery use this.
 */
export function isOwnerAlive(value: OwnerLike, options: OwnershipOptions = {}): boolean {
  const state = ownerState(value, options);
  if (state === "alive") return true;
  if (state === "dead") return false;
  return options.foreignAlive ?? true;
}

/**
 * True when a resource may be removed to make room, e.g. a leftover container holding a name
 * `up` needs: its owner is dead on this host and its session was not detached (a detached
 * environment is only removed by `berth down` and explicit gc).
 */
export function isReclaimable(labels: Record<string, string>, options: OwnershipOptions = {}): boolean {
  return labels[LABELS.detached] !== "true" && ownerState(labels, options) === "dead";
}
