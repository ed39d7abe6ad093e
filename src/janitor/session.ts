// A session: one owner's set of resources on the daemon, named by its id and labelled with it.
// Whoever creates resources (stack up, validate scenarios) asks the session for its labels and
// calls `beforeCreate()` first, so the reaper watchdog is guarding before anything exists.
import { randomUUID } from "node:crypto";
import type { Engine } from "../engine/engine.js";
import { currentOwner, type OwnerIdentity, sessionLabels } from "../model/labels.js";
import { SessionStateError } from "./errors.js";
import { guardSession, reaperDisabledByEnv, releaseSession } from "./reaper.js";

export interface SessionOptions {
  /** Session id; default a new random one. */
  id?: string;
  /** Project name; default `berth-<first 8 chars of the id>`. */
  project?: string;
  /** Start the reaper watchdog before the first resource (default: on unless BERTH_REAPER=off). */
  reaper?: boolean;
  /** Keep resources when the owner dies (debugging); the watchdog then does nothing. */
  keep?: boolean;
  /**
   * The session will be detached once it is up (`berth up`): its resources carry
   * `berth.detached=true` from the start, because labels cannot be added later. Until `detach()`
   * the reaper still guards it, so an `up` killed half-way leaves nothing.
   */
  detachable?: boolean;
  /** Labels every resource of the session carries beside the ownership ones (a reusable environment's key). */
  labels?: Record<string, string>;
}

/** `open`: guarded for the owner's life. `detached`: outlives its owner. `ended`: closed normally. */
export type SessionState = "open" | "detached" | "ended";

export interface Session {
  readonly id: string;
  readonly project: string;
  readonly owner: OwnerIdentity;
  readonly engine: Engine;
  readonly detachable: boolean;
  readonly state: SessionState;
  /** True once the reaper watchdog guards this session (and until it is released). */
  readonly guarded: boolean;
  /** Labels for a resource of this session (containers also get their service). */
  labels(service?: string): Record<string, string>;
  /**
   * Called before each resource is created; the first call starts the reaper watchdog and answers
   * once the session's guard is in its pipe (the watchdog may still be starting).
   */
  beforeCreate(): Promise<void>;
  /** Resolves once the watchdog guarding the session is running; rejects if it could not start. */
  confirmGuard(): Promise<void>;
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
  const detachable = options.detachable ?? false;
  const useReaper = (options.reaper ?? !reaperDisabledByEnv()) && !options.keep;
  let state: SessionState = "open";
  let guarding: Promise<void> | undefined;
  let watchdogReady: Promise<void> | undefined;
  let guarded = false;

  const release = async (next: SessionState) => {
    state = next;
    if (!guarding) return;
    // Wait for a guard still being set up, so the release cannot overtake it on the pipe.
    await guarding.catch(() => {});
    guarding = undefined;
    guarded = false;
    await releaseSession(id);
  };

  return {
    id,
    project,
    owner,
    engine,
    detachable,
    get state() {
      return state;
    },
    get guarded() {
      return guarded;
    },
    labels: (service?: string) =>
      sessionLabels({
        session: id,
        project,
        service,
        owner,
        createdAt,
        detachable,
        ...(options.labels ? { extra: options.labels } : {}),
      }),
    beforeCreate: async () => {
      if (state !== "open") {
        throw new SessionStateError(`Session ${id} (${project}) is ${state}; it creates no more resources`, {
          resource: id,
          hint: "Create a new session for new resources.",
        });
      }
      if (!useReaper) return;
      guarding ??= guardSession(id, engine.endpoint.url).then((guard) => {
        watchdogReady = guard.ready;
        guarded = true;
      });
      try {
        await guarding;
      } catch (error) {
        guarding = undefined;
        throw error;
      }
    },
    confirmGuard: async () => {
      await guarding;
      await watchdogReady;
    },
    detach: async () => {
      if (state === "detached") return;
      if (state === "ended") {
        throw new SessionStateError(`Session ${id} (${project}) has ended; it cannot be detached`, {
          resource: id,
        });
      }
      if (!detachable) {
        throw new SessionStateError(
          `Session ${id} (${project}) cannot be detached: it was not created detachable, so its resources do not carry berth.detached=true and gc would remove them once the owner exits`,
          { resource: id, hint: "Create the session with createSession(engine, { detachable: true })." },
        );
      }
      await release("detached");
    },
    end: async () => {
      if (state === "ended") return;
      await release("ended");
    },
  };
}
