// The contract between a service's container and the checks that decide it is ready.
import type { Engine } from "../../engine/engine.js";
import type { ContainerEventHub } from "../container-events.js";

interface HostAddress {
  host: string;
  port: number;
}

export interface WaitTarget {
  engine: Engine;
  service: string;
  containerId: string;
  /** Where a container port is published on the host; undefined when it is not published. */
  hostAddress(containerPort: number): HostAddress | undefined;
  /** The container's main process id as the daemon reports it (it may not be this host's). */
  pid?: number;
  /** The session's events stream, when there is one. */
  events?: ContainerEventHub;
}

export interface WaitStrategy {
  /** A short description for progress lines and errors: `healthcheck`, `http :8080/health -> 200`. */
  readonly description: string;
  /** Resolves when the check passes; rejects with a NotReadyError when it can never pass. */
  wait(target: WaitTarget, signal: AbortSignal): Promise<void>;
  /** What the last probe saw (exit code and output, an HTTP status, a refused connection). */
  lastProbe(): string | undefined;
}

type NotReadyReason = "unhealthy" | "exited" | "timeout" | "invalid";

/** A readiness check that will never pass; the stack turns it into a service failure with a diagnosis. */
export class NotReadyError extends Error {
  constructor(
    readonly reason: NotReadyReason,
    message: string,
    readonly lastProbe?: string,
  ) {
    super(message);
    this.name = "NotReadyError";
  }
}
