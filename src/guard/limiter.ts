// The limiter: slots for calls to the daemon, by operation class. Lifecycle calls share one
// budget (adaptive, fixed or none); cheap reads have their own; streams take no slot and are never
// sampled, so a `logs -f` or `events` can never block a create. Usable without an Engine: the
// guard proxy acquires and releases permits around raw HTTP requests.
import { AbortedError } from "../engine/errors.js";
import type { OperationClass } from "../engine/operations.js";
import {
  type Env,
  type LimiterMode,
  type LimiterOptions,
  type LimiterSettings,
  resolveLimiterSettings,
} from "./config.js";
import { GradientLaw, type LimitChange } from "./gradient.js";

/** What a finished call tells the limiter. */
export interface PermitSample {
  /** Daemon-side latency: dispatch to response, without time queued. */
  latencyMs: number;
  /**
   * `ok`: the daemon answered (a latency sample); `error`: the daemon failed (5xx, reset,
   * refused) and the limit falls; `timeout`: the call took too long and the limit falls;
   * `dropped`: the call says nothing about the daemon's load (aborted, or a 4xx answer).
   */
  outcome: "ok" | "error" | "timeout" | "dropped";
  /** Operation name (`container.start`, or a method and route); each has its own baseline. */
  operation?: string;
}

export interface Permit {
  /** Milliseconds the caller waited for this permit. */
  readonly queuedMs: number;
  /** Gives the slot back; call exactly once (later calls are ignored). */
  release(sample: PermitSample): void;
}

export interface PoolSnapshot {
  limit: number;
  inFlight: number;
  queued: number;
}

export interface LimiterSnapshot {
  mode: LimiterMode;
  /** Lifecycle slots (Infinity when off). */
  limit: number;
  /** Lifecycle calls in flight. */
  inFlight: number;
  /** Lifecycle calls waiting for a slot. */
  queued: number;
  /** The adaptive law's unrounded estimate. */
  estimatedLimit?: number;
  /** fixed: the pacing between lifecycle starts. */
  minIntervalMs?: number;
  reads: PoolSnapshot;
  /** Streams open (they take no slot). */
  streams: number;
  /** How often the lifecycle limit changed, and its lowest and highest values so far. */
  limitChanges: number;
  lowestLimit: number;
  highestLimit: number;
}

export interface LimitChangeEvent extends LimitChange {
  /** Wall-clock time of the change. */
  at: Date;
}

export interface Limiter {
  /**
   * Waits for a slot for a call of `opClass`. Rejects with AbortedError when `signal` aborts
   * first. `operation` names the call for the adaptive law (optional).
   */
  acquire(opClass: OperationClass, signal?: AbortSignal, operation?: string): Promise<Permit>;
  /**
   * A slot now, when one is free and nobody waits for one, else undefined (then `acquire`): the
   * same permit as `acquire` grants, without a promise or an abort listener for a wait that never
   * happens. Optional: a limiter without it is always asked through `acquire`.
   */
  tryAcquire?(opClass: OperationClass, operation?: string): Permit | undefined;
  snapshot(): LimiterSnapshot;
  /** Calls `listener` on every change of the lifecycle limit. Returns a function that stops it. */
  onLimitChange(listener: (change: LimitChangeEvent) => void): () => void;
  /** adaptive: each lifecycle operation's long-term latency in ms (empty in the other modes). */
  baselines(): Record<string, number>;
}

export interface LimiterConfig extends LimiterOptions {
  /** Environment variables that fill in what the options leave out (none by default). */
  env?: Env;
  /** Monotonic clock in milliseconds (default performance.now). */
  now?: () => number;
  /**
   * adaptive: long-term latencies learned before (`baselines()` of an earlier limiter on the
   * same daemon); operations found here are not probed again.
   */
  baselines?: Readonly<Record<string, number>>;
}

interface Waiter {
  enqueuedAt: number;
  operation?: string;
  rank: 0 | 1 | 2;
  grant: (permit: Permit) => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

/** A FIFO of waiters with a budget of slots. */
class Pool {
  inFlight = 0;
  readonly queue: Waiter[] = [];
  constructor(public limit: () => number) {}
  snapshot(): PoolSnapshot {
    return { limit: this.limit(), inFlight: this.inFlight, queued: this.queue.length };
  }
}

/**
 * The lifecycle queue's order: calls that end work (stop, kill, remove, disconnect, prune) go
 * first, then those that continue it (start, restart, connect, ...), then those that begin new
 * work (create); FIFO within a rank. Under a storm this finishes lifecycles before it starts new
 * ones, so the daemon holds few live containers at a time instead of every caller's at once.
 * Teardowns are finite (one per created resource), so creates wait but never starve.
 */
export function admissionRank(operation: string | undefined): 0 | 1 | 2 {
  if (!operation) return 1;
  if (/\.(stop|kill|remove|prune|disconnect|delete)$/.test(operation)) return 0;
  if (/\.create$/.test(operation)) return 2;
  return 1;
}

/** Puts `waiter` after every queued waiter of the same or a more urgent rank. */
function enqueue(queue: Waiter[], waiter: Waiter): void {
  let at = queue.length;
  while (at > 0 && queue[at - 1]!.rank > waiter.rank) at -= 1;
  queue.splice(at, 0, waiter);
}

const DROPPED: PermitSample = { latencyMs: 0, outcome: "dropped" };

class SlotLimiter implements Limiter {
  private readonly settings: LimiterSettings;
  private readonly now: () => number;
  private readonly law: GradientLaw | undefined;
  private readonly lifecycle: Pool;
  private readonly reads: Pool;
  private streams = 0;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  /** Wakes the lifecycle queue when pacing or a probe's bound allows the next grant. */
  private wake: { at: number; timer: ReturnType<typeof setTimeout> } | undefined;
  private readonly listeners = new Set<(change: LimitChangeEvent) => void>();
  private limitChanges = 0;
  private lowestLimit: number;
  private highestLimit: number;

  constructor(config: LimiterConfig) {
    const { env, now, baselines, ...options } = config;
    this.settings = resolveLimiterSettings(options, env ?? {});
    this.now = now ?? (() => performance.now());
    const s = this.settings;
    this.law = s.mode === "adaptive" ? new GradientLaw(s, this.now()) : undefined;
    if (baselines) this.law?.remember(baselines);
    const law = this.law;
    const lifecycleLimit =
      s.mode === "off" ? Number.POSITIVE_INFINITY : s.mode === "fixed" ? s.maxConcurrent : law!.limit;
    this.lifecycle = new Pool(law ? () => law.limit : () => lifecycleLimit);
    const readLimit = s.mode === "off" ? Number.POSITIVE_INFINITY : s.readConcurrency;
    this.reads = new Pool(() => readLimit);
    this.lowestLimit = lifecycleLimit;
    this.highestLimit = lifecycleLimit;
  }

  acquire(opClass: OperationClass, signal?: AbortSignal, operation?: string): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(this.aborted(signal, opClass));
    if (opClass === "stream") return Promise.resolve(this.streamPermit());
    const pool = opClass === "read" ? this.reads : this.lifecycle;
    return new Promise<Permit>((resolve, reject) => {
      const onAbort = () => {
        const index = pool.queue.indexOf(waiter);
        if (index >= 0) pool.queue.splice(index, 1);
        if (pool === this.lifecycle) this.disarmWhenIdle();
        reject(this.aborted(signal!, opClass));
      };
      const waiter: Waiter = {
        enqueuedAt: this.now(),
        operation,
        rank: pool === this.lifecycle ? admissionRank(operation) : 1,
        grant: resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      enqueue(pool.queue, waiter);
      this.drain(pool);
      if (pool === this.lifecycle) this.law?.onDemand(pool.inFlight, pool.queue.length);
    });
  }

  /**
   * Reads and streams only: a lifecycle grant depends on the adaptive law's admission and the
   * fixed mode's pacing, which `acquire` and `drain` keep in one place.
   */
  tryAcquire(opClass: OperationClass, operation?: string): Permit | undefined {
    if (opClass === "stream") return this.streamPermit();
    if (opClass !== "read") return undefined;
    const pool = this.reads;
    if (pool.queue.length > 0 || pool.inFlight >= pool.limit()) return undefined;
    const now = this.now();
    pool.inFlight += 1;
    return this.permit(pool, { enqueuedAt: now, operation }, now);
  }

  snapshot(): LimiterSnapshot {
    const snap: LimiterSnapshot = {
      mode: this.settings.mode,
      ...this.lifecycle.snapshot(),
      reads: this.reads.snapshot(),
      streams: this.streams,
      limitChanges: this.limitChanges,
      lowestLimit: this.lowestLimit,
      highestLimit: this.highestLimit,
    };
    if (this.law) snap.estimatedLimit = this.law.estimatedLimit;
    if (this.settings.mode === "fixed") snap.minIntervalMs = this.settings.minIntervalMs;
    return snap;
  }

  onLimitChange(listener: (change: LimitChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  baselines(): Record<string, number> {
    return this.law?.baselines() ?? {};
  }

  private aborted(signal: AbortSignal, opClass: OperationClass): AbortedError {
    return new AbortedError(`A ${opClass} call was aborted while it waited for a limiter slot`, {
      cause: signal.reason,
    });
  }

  private streamPermit(): Permit {
    this.streams += 1;
    let released = false;
    return {
      queuedMs: 0,
      release: () => {
        if (released) return;
        released = true;
        this.streams -= 1;
      },
    };
  }

  /** Grants queued waiters in order while the pool has room and the mode allows the head one. */
  private drain(pool: Pool): void {
    while (pool.queue.length > 0 && pool.inFlight < pool.limit()) {
      const head = pool.queue[0]!;
      // One timestamp for the admission and the permit: the law knows its probe by dispatch time.
      const now = this.now();
      if (pool === this.lifecycle && !this.admitsHead(head, now)) return;
      pool.queue.shift();
      head.detach();
      pool.inFlight += 1;
      head.grant(this.permit(pool, head, now));
    }
    if (pool === this.lifecycle) this.disarmWhenIdle();
  }

  /**
   * A wake-up with nobody left to wake is cleared: it would only keep the process alive (up to
   * a probe's bound, 3 s, after a CLI command had finished).
   */
  private disarmWhenIdle(): void {
    if (this.wake && this.lifecycle.queue.length === 0) {
      clearTimeout(this.wake.timer);
      this.wake = undefined;
    }
  }

  /** Pacing (fixed) and probing (adaptive) for the lifecycle queue's head; arms a wake-up when refused. */
  private admitsHead(head: Waiter, now: number): boolean {
    const s = this.settings;
    if (s.mode === "fixed") {
      const next = this.lastStartAt + s.minIntervalMs;
      if (next > now) return this.wakeAt(next, now);
      this.lastStartAt = now;
      return true;
    }
    if (!this.law) return true;
    const operation = head.operation ?? "lifecycle";
    if (!this.law.admits(operation, this.lifecycle.inFlight, now)) {
      const deadline = this.law.admitDeadline();
      return deadline === undefined ? false : this.wakeAt(deadline, now);
    }
    this.law.onDispatch(operation, this.lifecycle.inFlight, now);
    return true;
  }

  /** Drains the lifecycle queue again at `at` (the earliest wake-up wins); answers false. */
  private wakeAt(at: number, now: number): false {
    if (this.wake && this.wake.at <= at) return false;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(
      () => {
        this.wake = undefined;
        this.drain(this.lifecycle);
      },
      Math.max(0, at - now),
    );
    this.wake = { at, timer };
    return false;
  }

  private permit(pool: Pool, waiter: Pick<Waiter, "enqueuedAt" | "operation">, dispatchedAt: number): Permit {
    const inFlightAtDispatch = pool.inFlight;
    let released = false;
    return {
      queuedMs: dispatchedAt - waiter.enqueuedAt,
      release: (sample: PermitSample = DROPPED) => {
        if (released) return;
        released = true;
        pool.inFlight -= 1;
        if (pool === this.lifecycle && this.law) {
          const before = this.law.limit;
          const change = this.law.onSample(
            {
              operation: sample.operation ?? waiter.operation ?? "lifecycle",
              latencyMs: sample.latencyMs,
              outcome: sample.outcome,
              dispatchedAt,
              inFlightAtDispatch,
            },
            this.now(),
          );
          if (change && change.to !== before) this.announce(change);
        }
        this.drain(pool);
        if (pool === this.lifecycle) this.law?.onDemand(pool.inFlight, pool.queue.length);
      },
    };
  }

  private announce(change: LimitChange): void {
    this.limitChanges += 1;
    this.lowestLimit = Math.min(this.lowestLimit, change.to);
    this.highestLimit = Math.max(this.highestLimit, change.to);
    const event: LimitChangeEvent = { ...change, at: new Date() };
    for (const listener of this.listeners) listener(event);
  }
}

/** Creates a limiter: `adaptive` (default), `fixed` ({ maxConcurrent, minIntervalMs }) or `off`. */
export function createLimiter(config: LimiterConfig = {}): Limiter & Required<Pick<Limiter, "tryAcquire">> {
  return new SlotLimiter(config);
}
