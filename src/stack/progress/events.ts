// What `up` and `down` report while they work. Renderers (live lines on a TTY, plain lines, JSON)
// subscribe to these; the library API takes the same listener.
import type { ImageProgress } from "../../images/pull-progress.js";

export type ServicePhase =
  | "pending"
  | "building"
  | "built"
  | "creating"
  | "created"
  | "starting"
  | "waiting"
  | "ready"
  | "completed"
  | "failed"
  | "stopping"
  | "removed";

export type StackEvent =
  | { type: "project"; action: "up" | "down" | "pull"; project: string; session?: string; services: string[] }
  /** A pull's progress (`phase`, `layers`, `bytes`), for the services that use the image. */
  | ({ type: "image"; services: string[] } & ImageProgress)
  | { type: "warning"; message: string }
  | { type: "service"; service: string; phase: ServicePhase; detail?: string }
  | {
      type: "resource";
      kind: "network" | "volume";
      name: string;
      /** `claimed` from the network pool, `returned` to it (docs/performance.md). */
      action: "created" | "removed" | "kept" | "claimed" | "returned";
    }
  | { type: "rollback"; phase: "started" | "finished"; reason: string }
  | { type: "done"; action: "up" | "down" | "pull"; ok: boolean; durationMs: number };

export type ProgressListener = (event: StackEvent) => void;
