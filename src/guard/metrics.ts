// What the guard has seen: the limiter's state, daemon-side latency percentiles per operation
// class (dispatch to response, never time queued), retries and failures. Readable from the
// library as a plain object, and as the text block `berth --verbose` prints.
import type { CallRecord } from "../engine/engine.js";
import type { OperationClass } from "../engine/operations.js";
import { percentile } from "../model/stats.js";
import type { Limiter, LimiterSnapshot } from "./limiter.js";

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface GuardMetricsSnapshot {
  limiter: LimiterSnapshot;
  /** Calls finished (after their retries), by class. */
  calls: Record<OperationClass, number>;
  /** Attempts beyond the first. */
  retries: number;
  /** Creates answered by finding the container after a broken connection. */
  recoveredCreates: number;
  /** Healthcheck tests berth ran itself with exec to see readiness before Docker's first probe. */
  readinessExecs: number;
  /** Calls that ended in an error, 404s excluded (those are answers, not failures). */
  failures: number;
  /** Every error a call ended with, 404s included, by error code. */
  errorsByCode: Record<string, number>;
  /** Daemon-side latency in ms per class, from the engine's dispatch records; streams are never sampled. */
  latency: { lifecycle: LatencySummary; read: LatencySummary };
  /** Time calls waited for a slot, in ms, by class. */
  queued: { lifecycle: LatencySummary; read: LatencySummary };
}

export interface CallOutcome {
  class: OperationClass;
  operation?: string;
  ok: boolean;
  errorCode?: string;
  retries: number;
  queuedMs: number;
}

export interface GuardMetrics {
  /** Records one dispatch as the daemon saw it (feed it from `engine.observe`). */
  recordDispatch(record: Pick<CallRecord, "class" | "durationMs">): void;
  /** Records one finished call, after its retries. */
  recordCall(outcome: CallOutcome): void;
  recordRecoveredCreate(): void;
  recordReadinessExec(): void;
  snapshot(): GuardMetricsSnapshot;
  /** The snapshot as readable text (what `--verbose` prints). */
  render(): string;
}

/** A bounded sample of the most recent values: percentiles stay cheap in a long run. */
class Reservoir {
  private readonly values: number[] = [];
  private next = 0;
  count = 0;
  private sum = 0;
  private peak = 0;
  constructor(private readonly size = 10_000) {}
  add(value: number): void {
    this.count += 1;
    this.sum += value;
    this.peak = Math.max(this.peak, value);
    if (this.values.length < this.size) this.values.push(value);
    else {
      this.values[this.next] = value;
      this.next = (this.next + 1) % this.size;
    }
  }
  summary(): LatencySummary {
    const at = (p: number) => percentile(this.values, p);
    return {
      count: this.count,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      max: this.peak,
      mean: this.count === 0 ? 0 : this.sum / this.count,
    };
  }
}

export function formatMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 10) return `${Math.round(ms)}ms`;
  return `${ms.toFixed(1)}ms`;
}

function formatLimit(limit: number): string {
  return Number.isFinite(limit) ? String(limit) : "unlimited";
}

export function renderMetrics(s: GuardMetricsSnapshot): string {
  const l = s.limiter;
  const head =
    l.mode === "off"
      ? "limiter off"
      : l.mode === "fixed"
        ? `limiter fixed: ${l.limit} at once, ${l.minIntervalMs} ms apart`
        : `limiter adaptive: limit ${l.limit} (lowest ${l.lowestLimit}, highest ${l.highestLimit}, ${l.limitChanges} changes)`;
  const lines = [
    `berth guard: ${head}`,
    `  now: ${l.inFlight} in flight, ${l.queued} queued; reads ${l.reads.inFlight}/${formatLimit(l.reads.limit)}, ${l.reads.queued} queued; ${l.streams} streams open`,
    `  calls: ${s.calls.lifecycle} lifecycle, ${s.calls.read} read, ${s.calls.stream} stream; ${s.retries} retries, ${s.failures} failures${s.recoveredCreates > 0 ? `, ${s.recoveredCreates} creates recovered` : ""}${s.readinessExecs > 0 ? `, ${s.readinessExecs} readiness execs` : ""}`,
  ];
  const codes = Object.entries(s.errorsByCode);
  if (codes.length > 0) lines.push(`  errors: ${codes.map(([code, n]) => `${code} ${n}`).join(", ")}`);
  lines.push("  daemon-side latency     count      p50      p95      p99      max");
  for (const cls of ["lifecycle", "read"] as const) {
    const q = s.latency[cls];
    lines.push(
      `    ${cls.padEnd(20)}${String(q.count).padStart(6)}${[q.p50, q.p95, q.p99, q.max].map((v) => formatMs(v).padStart(9)).join("")}`,
    );
  }
  const wait = s.queued.lifecycle;
  if (wait.count > 0) {
    lines.push(
      `  queued for a lifecycle slot: p50 ${formatMs(wait.p50)}, p95 ${formatMs(wait.p95)}, max ${formatMs(wait.max)}`,
    );
  }
  return lines.join("\n");
}

export function createGuardMetrics(limiter: Limiter): GuardMetrics {
  const latency = { lifecycle: new Reservoir(), read: new Reservoir() };
  const queued = { lifecycle: new Reservoir(), read: new Reservoir() };
  const calls: Record<OperationClass, number> = { lifecycle: 0, read: 0, stream: 0 };
  const errorsByCode: Record<string, number> = {};
  let retries = 0;
  let failures = 0;
  let recoveredCreates = 0;
  let readinessExecs = 0;
  const metrics: GuardMetrics = {
    recordDispatch(record) {
      if (record.class !== "stream") latency[record.class].add(record.durationMs);
    },
    recordCall(outcome) {
      calls[outcome.class] += 1;
      retries += outcome.retries;
      if (outcome.class !== "stream") queued[outcome.class].add(outcome.queuedMs);
      if (!outcome.ok) {
        const code = outcome.errorCode ?? "BERTH_INTERNAL";
        errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
        if (code !== "BERTH_NOT_FOUND") failures += 1;
      }
    },
    recordRecoveredCreate() {
      recoveredCreates += 1;
    },
    recordReadinessExec() {
      readinessExecs += 1;
    },
    snapshot() {
      return {
        limiter: limiter.snapshot(),
        calls: { ...calls },
        retries,
        recoveredCreates,
        readinessExecs,
        failures,
        errorsByCode: { ...errorsByCode },
        latency: { lifecycle: latency.lifecycle.summary(), read: latency.read.summary() },
        queued: { lifecycle: queued.lifecycle.summary(), read: queued.read.summary() },
      };
    },
    render() {
      return renderMetrics(metrics.snapshot());
    },
  };
  return metrics;
}
