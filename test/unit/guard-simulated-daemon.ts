// A simulated Docker daemon with a deterministic clock, for testing the limiter's control law.
// The daemon shares `cores` among the calls in flight (processor sharing): up to the knee each
// call runs at full speed; past it every call slows in proportion, so throughput stays flat and
// only latency grows, as measured on a real daemon. Each operation also has a fixed part that
// does not load the daemon (a container handling SIGTERM). Noise is seeded, so runs repeat.
import type { GradientLaw } from "../../src/guard/gradient.js";

export interface SimOperation {
  name: string;
  /** Daemon work in ms at full speed. */
  workMs: number;
  /** Time outside the daemon's shared capacity. */
  fixedMs: number;
}

export const LIFECYCLE: SimOperation[] = [
  { name: "container.create", workMs: 40, fixedMs: 5 },
  { name: "container.start", workMs: 160, fixedMs: 10 },
  { name: "container.stop", workMs: 40, fixedMs: 80 },
  { name: "container.remove", workMs: 30, fixedMs: 5 },
];

/**
 * Calls in flight at the knee: `cores` calls' worth of work, plus the calls that are in their
 * fixed part (which does not load the daemon) at the same time.
 */
export function kneeInFlight(cores: number): number {
  const work = LIFECYCLE.reduce((sum, op) => sum + op.workMs, 0);
  const total = LIFECYCLE.reduce((sum, op) => sum + op.workMs + op.fixedMs, 0);
  return (cores * total) / work;
}

export interface SimOptions {
  callers: number;
  /** Concurrent calls the daemon serves at full speed: the knee. */
  cores: number;
  durationMs: number;
  seed?: number;
  /** Log-normal spread of each call's work. */
  noise?: number;
  /** Between these times every call fails fast, as a daemon in trouble does. */
  failBetween?: [number, number];
  /** Limit applied when there is no law (the `off` mode): unlimited. */
  law?: GradientLaw;
  /** Client-side time between one call's end and the caller's next call. */
  thinkMs?: number;
  /** The daemon's speed over time (1 = as measured alone); other tenants make it slower. */
  speedAt?: (now: number) => number;
}

export interface SimResult {
  completed: number;
  throughputPerSec: number;
  /** Latency / unloaded latency of each completed call, in completion order, with its time. */
  stretch: { at: number; value: number }[];
  /** The law's limit over time. */
  limits: { at: number; limit: number }[];
  maxInFlight: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Job {
  caller: number;
  op: SimOperation;
  remainingWork: number;
  fixedUntil: number;
  dispatchedAt: number;
  inFlightAtDispatch: number;
  unloadedMs: number;
  fails: boolean;
}

export function simulate(options: SimOptions): SimResult {
  const random = mulberry32(options.seed ?? 42);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const noise = options.noise ?? 0.25;
  const think = options.thinkMs ?? 2;
  const law = options.law;
  const step = 1;
  const nextOp = new Array<number>(options.callers).fill(0);
  const readyAt = new Array<number>(options.callers).fill(0);
  const waiting: number[] = [];
  const running: Job[] = [];
  const result: SimResult = { completed: 0, throughputPerSec: 0, stretch: [], limits: [], maxInFlight: 0 };
  const idle = new Set<number>(Array.from({ length: options.callers }, (_, i) => i));

  for (let now = 0; now < options.durationMs; now += step) {
    for (const caller of [...idle]) {
      if (readyAt[caller]! <= now) {
        idle.delete(caller);
        waiting.push(caller);
      }
    }
    while (waiting.length > 0 && (!law || running.length < law.limit)) {
      const caller = waiting[0]!;
      const op = LIFECYCLE[nextOp[caller]! % LIFECYCLE.length]!;
      if (law && !law.admits(op.name, running.length, now)) break;
      law?.onDispatch(op.name, running.length, now);
      waiting.shift();
      nextOp[caller]! += 1;
      const factor = Math.exp(noise * gauss());
      const failing =
        options.failBetween !== undefined && now >= options.failBetween[0] && now < options.failBetween[1];
      const work = failing ? 2 : op.workMs * factor;
      running.push({
        caller,
        op,
        remainingWork: work,
        fixedUntil: now + (failing ? 0 : op.fixedMs),
        dispatchedAt: now,
        inFlightAtDispatch: running.length + 1,
        unloadedMs: op.workMs + op.fixedMs,
        fails: failing,
      });
    }
    law?.onDemand(running.length, waiting.length);
    result.maxInFlight = Math.max(result.maxInFlight, running.length);
    const working = running.filter((j) => j.remainingWork > 0).length;
    const speed = (working === 0 ? 1 : Math.min(1, options.cores / working)) * (options.speedAt?.(now) ?? 1);
    for (let i = running.length - 1; i >= 0; i--) {
      const job = running[i]!;
      if (job.remainingWork > 0) job.remainingWork -= step * speed;
      if (job.remainingWork > 0 || now + step < job.fixedUntil) continue;
      running.splice(i, 1);
      const end = now + step;
      const latencyMs = end - job.dispatchedAt;
      const change = law?.onSample(
        {
          operation: job.op.name,
          latencyMs,
          outcome: job.fails ? "error" : "ok",
          dispatchedAt: job.dispatchedAt,
          inFlightAtDispatch: job.inFlightAtDispatch,
        },
        end,
      );
      if (change) result.limits.push({ at: end, limit: change.to });
      if (!job.fails) {
        result.completed += 1;
        result.stretch.push({ at: end, value: latencyMs / job.unloadedMs });
      }
      readyAt[job.caller] = end + think;
      idle.add(job.caller);
    }
  }
  result.throughputPerSec = result.completed / (options.durationMs / 1000);
  return result;
}

/** Time-weighted mean of the law's limit between two times. */
export function meanLimit(result: SimResult, initial: number, from: number, to: number): number {
  let current = initial;
  let last = from;
  let area = 0;
  for (const point of result.limits) {
    if (point.at <= from) {
      current = point.limit;
      continue;
    }
    if (point.at >= to) break;
    area += current * (point.at - last);
    last = point.at;
    current = point.limit;
  }
  area += current * (to - last);
  return area / (to - from);
}

export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
