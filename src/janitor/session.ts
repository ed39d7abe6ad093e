// A session: one owner's set of resources on the daemon, named by its id and labelled with it.
// Whoever creates resources (stack up, validate scenarios) asks the session for its labels and
// calls `beforeCreate()` first, so the reaper watchdog is guarding before anything exists.
import { randomUUID } from "node:crypto";
import type { Engine } from "../engine/engine.js";
import { currentOwner, type OwnerIdentity, sessionLabels } from "./labels.js";

export interface SessionOptions {
  /** Session id; default a new random one. */
  id?: string;
  /** Project name; default `berth-<first 8 chars of the id>`. */
  project?: string;
  /** Start the reaper watchdog before the first resource (default: on unless BERTH_REAPER=off). */
  reaper?: boolean;
  /** Keep resources when the owner dies (debugging); the watchdog then does nothing. */
  keep?: boolean;
}

export interface Session {
  readonly id: string;
  readonly project: string;
  readonly owner: OwnerIdentity;
  readonly engine: Engine;
  /** Labels for a resource of this session (containers also get their service). */
  labels(service?: string): Record<string, string>;
  /** Called before each resource is created; the first call starts the reaper watchdog. */
  beforeCreate(): Promise<void>;
  /** Marks the session detached: it outlives its owner (berth up) until down or gc. */
  detach(): Promise<void>;
  /** The owner ends the session normally: the watchdog stops guarding it. */
  end(): Promise<void>;
}

export function newSessionId(): string {
  return randomUUID().replace(/-/g, "").slice(0, 12);
}

export function createSession(engine: Engine, options: SessionOptions = {}): Session {
  const id = options.id ?? newSessionId();
  const project = options.project ?? `berth-${id.slice(0, 8)}`;
  const owner = currentOwner();
  const createdAt = new Date();
  return {
    id,
    project,
    owner,
    engine,
    labels: (service?: string) => sessionLabels({ session: id, project, service, owner, createdAt }),
    beforeCreate: async () => {},
    detach: async () => {},
    end: async () => {},
  };
}
