// The adaptive limiter's control law, as a pure state machine: latency samples and errors in,
// a concurrency limit out. No timers, no I/O; the caller passes the time. docs/limiter.md
// explains the law and why it looks the way it does.
import { percentile } from "../model/stats.js";

export interface GradientConfig {
  /** Limit before the first window closes. */
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /**
   * How much slower than its long-term latency an operation may run before berth calls it
   * queueing: the short-term ratio at which the limit stops growing.
   */
  tolerance: number;
  /** Weight of a new, lower estimate when the limit falls (0..1]; growth is not smoothed. */
  smoothing: number;
  /** Shortest sampling window in milliseconds. */
  windowMs: number;
  /** Fewest samples a window needs before it may close. */
  minWindowSamples: number;
  /** A call at light load moves its operation's long-term latency by 1/longWindow of the difference. */
  longWindow: number;
  /** Factor the limit is multiplied by on an error or timeout (at most once per window). */
  errorBackoff: number;
  /**
   * Longest time an operation's first call waits for the daemon to drain, and then runs alone,
   * so that its long-term latency is measured unloaded (0 turns probing off).
   */
  probeTimeoutMs: number;
}

export const DEFAULT_GRADIENT: GradientConfig = {
  initialLimit: 2,
  minLimit: 1,
  maxLimit: 64,
  tolerance: 1.5,
  smoothing: 0.5,
  windowMs: 250,
  minWindowSamples: 4,
  longWindow: 100,
  errorBackoff: 0.7,
  probeTimeoutMs: 3_000,
};

export interface GradientSample {
  /** Operation name: each operation has its own long-term latency. */
  operation: string;
  latencyMs: number;
  outcome: "ok" | "error" | "timeout" | "dropped";
  /** When the call was dispatched (same clock as `now`). */
  dispatchedAt: number;
  /** Calls in flight, this one included, when it was dispatched. */
  inFlightAtDispatch: number;
}

export type LimitChangeReason = "gradient" | "error" | "timeout";

export interface LimitChange {
  from: number;
  to: number;
  reason: LimitChangeReason;
  /** Median of latency / long-term latency in the window that closed (1 = no queueing). */
  ratio?: number;
  gradient?: number;
  samples?: number;
}

interface WindowSample {
  operation: string;
  latencyMs: number;
  ratio: number;
}

interface Window {
  startedAt: number;
  samples: WindowSample[];
  /** True once in-flight calls reached the limit during the window: growth is wanted. */
  saturated: boolean;
}

function byOperation(samples: WindowSample[]): Map<string, WindowSample[]> {
  const groups = new Map<string, WindowSample[]>();
  for (const s of samples) groups.set(s.operation, [...(groups.get(s.operation) ?? []), s]);
  return groups;
}

/** A call that ran alone pulls its operation's long-term latency this far, up or down. */
const ALONE_GAIN = 0.3;
/** How fast the cross-operation stretch follows new samples. */
const STRETCH_GAIN = 0.2;
/** A latency a law can start from: a positive finite number of ms. */
export function isLatency(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

/** Windows in a row at the floor, still queueing, before berth takes today's latency as normal. */
const FLOOR_WINDOWS = 5;

export class GradientLaw {
  readonly config: GradientConfig;
  private estimate: number;
  private readonly longTerm = new Map<string, number>();
  private window: Window;
  /** Recent latency / long-term latency across operations: how stretched the daemon is now. */
  private stretch = 1;
  private lastDecreaseAt: number | undefined;
  /** Until the first sign of queueing the limit grows fast (slow start, as in TCP). */
  private slowStart = true;
  /** Consecutive windows that ended at the floor and still queueing. */
  private floorWindows = 0;
  /** The first call of an operation, running alone to measure it. */
  private probe: { operation: string; since: number } | undefined;
  /** When an unmeasured operation first had to wait for the daemon to drain. */
  private drainingSince: number | undefined;
  /**
   * Operations whose probe has been sent: their next calls need not wait for its answer. A probe
   * that failed is not repeated (a run of 404s must not drain the queue each time); the first
   * answer then teaches, corrected by the current stretch.
   */
  private readonly probed = new Set<string>();

  constructor(config: GradientConfig, now: number) {
    this.config = config;
    this.estimate = Math.min(config.maxLimit, Math.max(config.minLimit, config.initialLimit));
    this.window = { startedAt: now, samples: [], saturated: false };
  }

  /** Whole slots available: the estimate rounded down, never below the minimum. */
  get limit(): number {
    return Math.max(this.config.minLimit, Math.floor(this.estimate));
  }

  /** The unrounded estimate, for metrics and tests. */
  get estimatedLimit(): number {
    return this.estimate;
  }

  /** The long-term latency berth holds for an operation, in milliseconds. */
  longTermLatency(operation: string): number | undefined {
    return this.longTerm.get(operation);
  }

  /** Every operation's long-term latency (ms): what another process may start from (`remember`). */
  baselines(): Record<string, number> {
    return Object.fromEntries(this.longTerm);
  }

  /**
   * Takes long-term latencies learned earlier (by another process on the same daemon) for the
   * operations not measured yet: they need no probe. Values that are not positive finite numbers
   * are ignored. What this law learns from then on moves them as it moves its own.
   */
  remember(baselines: Readonly<Record<string, number>>): void {
    for (const [operation, latencyMs] of Object.entries(baselines)) {
      if (this.longTerm.has(operation) || this.probed.has(operation)) continue;
      if (!isLatency(latencyMs)) continue;
      this.longTerm.set(operation, latencyMs);
    }
  }

  /**
   * Whether a call of `operation` may be dispatched now, with `inFlight` calls in flight. An
   * operation never measured before is a probe (Envoy's minRTT measurement, per operation): it
   * waits for the calls in flight to finish, then runs alone, so that its long-term latency is
   * not learned under load. Both waits are bounded by `probeTimeoutMs`.
   */
  admits(operation: string, inFlight: number, now: number): boolean {
    const timeout = this.config.probeTimeoutMs;
    if (this.probe) {
      if (now - this.probe.since < timeout) return false;
      // The probe is taking too long to keep everything else waiting; its sample still teaches.
      this.probe = undefined;
    }
    if (inFlight >= this.limit) return false;
    if (timeout === 0 || this.longTerm.has(operation) || this.probed.has(operation)) return true;
    if (inFlight === 0) return true;
    this.drainingSince ??= now;
    return now - this.drainingSince >= timeout;
  }

  /** When a refused call may be admitted at the latest, if nothing finishes before (for a timer). */
  admitDeadline(): number | undefined {
    if (this.probe) return this.probe.since + this.config.probeTimeoutMs;
    if (this.drainingSince !== undefined) return this.drainingSince + this.config.probeTimeoutMs;
    return undefined;
  }

  /** Records a dispatch; the first call of an unmeasured operation becomes the probe. */
  onDispatch(operation: string, inFlightBefore: number, now: number): void {
    this.drainingSince = undefined;
    if (this.config.probeTimeoutMs === 0 || this.longTerm.has(operation) || this.probed.has(operation))
      return;
    this.probed.add(operation);
    if (inFlightBefore === 0 && !this.probe) this.probe = { operation, since: now };
  }

  /** Tells the law how busy the limiter is: growth is only earned while the limit is reached. */
  onDemand(inFlight: number, queued: number): void {
    if (queued > 0 || inFlight >= this.limit) this.window.saturated = true;
  }

  /** Feeds one finished call; answers the limit change it caused, if any. */
  onSample(sample: GradientSample, now: number): LimitChange | undefined {
    if (this.probe?.operation === sample.operation && sample.dispatchedAt <= this.probe.since) {
      this.probe = undefined;
    }
    if (sample.outcome === "dropped") return undefined;
    if (sample.outcome === "error" || sample.outcome === "timeout") {
      return this.onFailure(sample.outcome, now);
    }
    const ratio = this.learn(sample);
    if (ratio !== undefined) {
      this.window.samples.push({ operation: sample.operation, latencyMs: sample.latencyMs, ratio });
    }
    return this.maybeCloseWindow(now);
  }

  /** Updates the operation's long-term latency; answers the sample's ratio to the old value. */
  private learn(sample: GradientSample): number | undefined {
    const latency = Math.max(sample.latencyMs, 0.05);
    const long = this.longTerm.get(sample.operation);
    if (long === undefined) {
      // An operation seen for the first time under load would take the load for its baseline;
      // the stretch the other operations show right now corrects for that.
      const alone = sample.inFlightAtDispatch <= 1;
      this.longTerm.set(sample.operation, alone ? latency : latency / Math.max(1, this.stretch));
      return undefined;
    }
    const ratio = latency / long;
    this.stretch += (ratio - this.stretch) * STRETCH_GAIN;
    // Under load a sample says little about unloaded latency: only calls that ran alone or at
    // light load teach it here; the window's close corrects it when the daemon got faster.
    let gain = 0;
    if (sample.inFlightAtDispatch <= 1) gain = ALONE_GAIN;
    else if (sample.inFlightAtDispatch <= this.limit / 2) gain = 1 / this.config.longWindow;
    this.longTerm.set(sample.operation, long + (latency - long) * gain);
    return ratio;
  }

  private onFailure(kind: "error" | "timeout", now: number): LimitChange | undefined {
    if (this.lastDecreaseAt !== undefined && now - this.lastDecreaseAt < this.config.windowMs)
      return undefined;
    this.lastDecreaseAt = now;
    this.slowStart = false;
    const from = this.limit;
    this.estimate = Math.max(this.config.minLimit, this.estimate * this.config.errorBackoff);
    this.window = { startedAt: now, samples: [], saturated: false };
    const to = this.limit;
    return to === from ? undefined : { from, to, reason: kind };
  }

  private maybeCloseWindow(now: number): LimitChange | undefined {
    const w = this.window;
    if (now - w.startedAt < this.config.windowMs || w.samples.length < this.config.minWindowSamples) {
      return undefined;
    }
    const ratio = percentile(
      w.samples.map((s) => s.ratio),
      50,
    );
    const gradient = Math.max(0.5, Math.min(1, this.config.tolerance / ratio));
    const from = this.limit;
    if (gradient < 1) this.slowStart = false;
    // Slow start grows by sqrt(limit), Envoy's burst headroom; after it, by one slot, so that the
    // limit settles where the short-term ratio meets the tolerance.
    const headroom = this.slowStart ? Math.sqrt(this.estimate) : 1;
    const target = this.estimate * gradient + headroom;
    if (target >= this.estimate) {
      // Growing while the limit was not even reached would only loosen protection unseen.
      if (w.saturated) this.estimate = target;
    } else {
      this.estimate += (target - this.estimate) * this.config.smoothing;
    }
    this.estimate = Math.min(this.config.maxLimit, Math.max(this.config.minLimit, this.estimate));
    this.correctLongTerm(w, gradient);
    this.window = { startedAt: now, samples: [], saturated: false };
    const to = this.limit;
    return to === from
      ? undefined
      : { from, to, reason: "gradient", ratio, gradient, samples: w.samples.length };
  }

  /** The two corrections of long-term latencies that only a whole window can justify. */
  private correctLongTerm(w: Window, gradient: number): void {
    const groups = byOperation(w.samples);
    // A daemon under load is never faster than unloaded: an operation whose calls ran faster than
    // its long-term latency shows that value is stale (Gradient2 pulls its long RTT down likewise).
    for (const [operation, samples] of groups) {
      const r = percentile(
        samples.map((s) => s.ratio),
        50,
      );
      if (samples.length >= 3 && r < 1) {
        const long = this.longTerm.get(operation)!;
        this.longTerm.set(operation, (long * (1 + r)) / 2);
      }
    }
    // Stuck at the floor and still "queueing": berth's own load is as low as it goes, so the
    // slowness is the daemon's new normal (other tenants). Take it as the long-term latency, as
    // Envoy re-measures its minRTT after 5 windows at minimum concurrency.
    const floor = Math.max(this.config.minLimit, Math.min(this.config.initialLimit, this.config.maxLimit));
    this.floorWindows = gradient < 1 && this.limit <= floor ? this.floorWindows + 1 : 0;
    if (this.floorWindows >= FLOOR_WINDOWS) {
      for (const [operation, samples] of groups) {
        this.longTerm.set(
          operation,
          percentile(
            samples.map((s) => s.latencyMs),
            50,
          ),
        );
      }
      this.floorWindows = 0;
    }
  }
}
