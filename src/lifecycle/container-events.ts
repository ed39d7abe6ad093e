// One events stream for a whole session: health and exit transitions arrive the moment the
// daemon sees them, instead of each waiter polling inspect. Waiters still poll slowly as a
// safety net, so a broken stream costs latency, never correctness.
import type { Engine, EngineEvent } from "../engine/engine.js";

interface ContainerEvent {
  containerId: string;
  action: "start" | "die" | "oom" | "health";
  /** For `health`: `healthy`, `unhealthy` or `starting`. */
  health?: string;
  /** For `die`: the exit code. */
  exitCode?: number;
}

type Listener = (event: ContainerEvent) => void;

export function toContainerEvent(event: EngineEvent): ContainerEvent | undefined {
  if (event.Type !== "container") return undefined;
  const containerId = event.Actor.ID;
  if (event.Action.startsWith("health_status")) {
    return { containerId, action: "health", health: event.Action.split(":")[1]?.trim() ?? "" };
  }
  if (event.Action === "die") {
    const code = Number(event.Actor.Attributes.exitCode);
    return { containerId, action: "die", ...(Number.isFinite(code) ? { exitCode: code } : {}) };
  }
  if (event.Action === "start" || event.Action === "oom") return { containerId, action: event.Action };
  return undefined;
}

export class ContainerEventHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly controller = new AbortController();
  private running = true;

  private constructor(
    private readonly engine: Engine,
    private readonly filters: Record<string, string[]>,
  ) {}

  /** Follows container events matching `labels` (e.g. `berth.session=ID`) from one second ago. */
  static open(engine: Engine, labels: string[]): ContainerEventHub {
    const hub = new ContainerEventHub(engine, { type: ["container"], label: labels });
    void hub.pump(Math.floor(Date.now() / 1000) - 1);
    return hub;
  }

  /** False once the stream has ended or failed; waiters then rely on their polling alone. */
  get live(): boolean {
    return this.running;
  }

  private async pump(since: number): Promise<void> {
    try {
      for await (const raw of this.engine.events({
        filters: this.filters,
        since,
        signal: this.controller.signal,
      })) {
        const event = toContainerEvent(raw);
        if (!event) continue;
        for (const listener of this.listeners.get(event.containerId) ?? []) listener(event);
      }
    } catch {
      // The waiters' polling covers for a lost stream.
    } finally {
      this.running = false;
    }
  }

  /** Calls `listener` for each event of the container; returns an unsubscribe. */
  on(containerId: string, listener: Listener): () => void {
    let set = this.listeners.get(containerId);
    if (!set) {
      set = new Set();
      this.listeners.set(containerId, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  close(): void {
    this.controller.abort();
    this.listeners.clear();
  }
}
