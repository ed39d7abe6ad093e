// What the proxy counts: requests in flight (now and at most), time queued in the limiter,
// daemon-side latency per operation class, retries, rewrites, denials and bytes. Pure state; the
// server feeds it, `/_berth/metrics` and `metrics()` read it.
import type { OperationClass } from "../engine/operations.js";
import { percentile } from "../model/stats.js";
import type { DenialRule } from "./policy.js";

const CLASSES: OperationClass[] = ["read", "lifecycle", "stream"];
const WINDOW = 4096;

/** A fixed-size window of recent samples, so percentiles describe the recent past. */
class SampleWindow {
  private readonly values: number[] = [];
  private next = 0;
  count = 0;

  add(value: number): void {
    if (this.values.length < WINDOW) this.values.push(value);
    else this.values[this.next] = value;
    this.next = (this.next + 1) % WINDOW;
    this.count++;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      p50Ms: round(percentile(this.values, 50)),
      p95Ms: round(percentile(this.values, 95)),
      p99Ms: round(percentile(this.values, 99)),
      maxMs: round(percentile(this.values, 100)),
    };
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export interface LatencySummary {
  /** Samples taken since the start (percentiles cover the last 4096). */
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export type PerClass<T> = Record<OperationClass, T>;

export interface LimiterView {
  limit: number | null;
  inFlight: number | null;
  queued: number | null;
  /** The highest limit the limiter ever had, when it tracks one. */
  highest: number | null;
}

export interface ProxyMetricsSnapshot {
  uptimeSeconds: number;
  /** Requests dispatched to the daemon right now, per class (time queued not included). */
  inFlight: PerClass<number>;
  /** The most requests of each class ever dispatched at once. */
  maxInFlight: PerClass<number>;
  /** The limiter's current concurrency limit (null when it has none, as with `off`). */
  limit: number | null;
  /** The highest limit the limiter ever had (as it reports it, or as seen at dispatches). */
  maxLimit: number | null;
  /** Requests waiting in the limiter right now. */
  queued: number;
  requests: {
    total: number;
    byClass: PerClass<number>;
    byStatus: Record<string, number>;
    /** Answered by the proxy itself because the daemon could not be reached or failed mid-way. */
    upstreamFailures: number;
    /** Clients that went away before their answer was complete. */
    clientAborts: number;
  };
  /**
   * Daemon-side latency: from dispatch to the end of the response for reads and lifecycle calls,
   * to the response head for streams (whose length is the client's business).
   */
  latency: PerClass<LatencySummary>;
  queuedTime: PerClass<LatencySummary>;
  /** Requests sent to the daemon again after a transient failure (the rewrite's calls included). */
  retries: number;
  rewrites: { total: number; failed: number };
  denials: { total: number; byRule: Partial<Record<DenialRule, number>>; badRequests: number };
  bytes: { fromClients: number; toClients: number };
  /** The limiter's own snapshot, as it reports it. */
  limiter: unknown;
}

const perClass = <T>(make: () => T): PerClass<T> => ({ read: make(), lifecycle: make(), stream: make() });

export class ProxyMetrics {
  private readonly started = performance.now();
  private readonly inFlight = perClass(() => 0);
  private readonly maxInFlight = perClass(() => 0);
  private readonly latency = perClass(() => new SampleWindow());
  private readonly queuedTime = perClass(() => new SampleWindow());
  private readonly byClass = perClass(() => 0);
  private readonly byStatus: Record<string, number> = {};
  private maxLimit: number | null = null;
  private limiterTracksHighest = false;
  private total = 0;
  private upstreamFailures = 0;
  private clientAborts = 0;
  private retries = 0;
  private rewrites = 0;
  private rewriteFailures = 0;
  private denials = 0;
  private badRequests = 0;
  private readonly denialsByRule: Partial<Record<DenialRule, number>> = {};
  private bytesIn = 0;
  private bytesOut = 0;

  constructor(
    private readonly limiterView: () => { view: LimiterView; raw: unknown },
    /** Retries made elsewhere on the proxy's behalf (the rewrite's guarded engine). */
    private readonly otherRetries: () => number = () => 0,
  ) {}

  received(cls: OperationClass): void {
    this.total++;
    this.byClass[cls]++;
  }

  /** A request leaves the limiter's queue for the daemon (`queuedMs` when the proxy measured it). */
  dispatched(cls: OperationClass, queuedMs?: number): void {
    if (queuedMs !== undefined) this.queuedTime[cls].add(queuedMs);
    const now = ++this.inFlight[cls];
    if (now > this.maxInFlight[cls]) this.maxInFlight[cls] = now;
    // A limiter that reports its highest limit needs no sample per request (a snapshot each time
    // was a tenth of the fast lane's own work); one that does not is sampled at every dispatch.
    if (this.limiterTracksHighest) return;
    const { limit, highest } = this.limiterView().view;
    this.limiterTracksHighest = highest !== null;
    if (limit !== null && (this.maxLimit === null || limit > this.maxLimit)) this.maxLimit = limit;
  }

  /** The daemon answered (or failed); `latencyMs` is daemon-side. */
  finished(cls: OperationClass, latencyMs: number | undefined): void {
    this.inFlight[cls]--;
    if (latencyMs !== undefined) this.latency[cls].add(latencyMs);
  }

  status(code: number): void {
    const key = code === 101 ? "101" : `${Math.floor(code / 100)}xx`;
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
  }

  upstreamFailed(): void {
    this.upstreamFailures++;
  }

  clientAborted(): void {
    this.clientAborts++;
  }

  retried(): void {
    this.retries++;
  }

  rewrote(ok: boolean): void {
    this.rewrites++;
    if (!ok) this.rewriteFailures++;
  }

  denied(rule: DenialRule): void {
    this.denials++;
    this.denialsByRule[rule] = (this.denialsByRule[rule] ?? 0) + 1;
  }

  badRequest(): void {
    this.badRequests++;
  }

  bytes(fromClient: number, toClient: number): void {
    this.bytesIn += fromClient;
    this.bytesOut += toClient;
  }

  snapshot(): ProxyMetricsSnapshot {
    const { view, raw } = this.limiterView();
    return {
      uptimeSeconds: round((performance.now() - this.started) / 1000),
      inFlight: { ...this.inFlight },
      maxInFlight: { ...this.maxInFlight },
      limit: view.limit,
      maxLimit: view.highest === null ? this.maxLimit : Math.max(view.highest, this.maxLimit ?? 0),
      queued: view.queued ?? 0,
      requests: {
        total: this.total,
        byClass: { ...this.byClass },
        byStatus: { ...this.byStatus },
        upstreamFailures: this.upstreamFailures,
        clientAborts: this.clientAborts,
      },
      latency: perClassFrom((cls) => this.latency[cls].summary()),
      queuedTime: perClassFrom((cls) => this.queuedTime[cls].summary()),
      retries: this.retries + this.otherRetries(),
      rewrites: { total: this.rewrites, failed: this.rewriteFailures },
      denials: { total: this.denials, byRule: { ...this.denialsByRule }, badRequests: this.badRequests },
      bytes: { fromClients: this.bytesIn, toClients: this.bytesOut },
      limiter: raw,
    };
  }
}

function perClassFrom<T>(make: (cls: OperationClass) => T): PerClass<T> {
  return { read: make("read"), lifecycle: make("lifecycle"), stream: make("stream") };
}

/** The snapshot in the Prometheus text exposition format (version 0.0.4). */
export function toPrometheus(s: ProxyMetricsSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP berth_proxy_${name} ${help}`, `# TYPE berth_proxy_${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`berth_proxy_${name}${labels} ${value}`);
  };
  const byClass = (values: PerClass<number>): [string, number][] =>
    CLASSES.map((cls) => [`{class="${cls}"}`, values[cls]]);
  metric("in_flight", "gauge", "Requests dispatched to the daemon now.", byClass(s.inFlight));
  metric("max_in_flight", "gauge", "Most requests dispatched at once since start.", byClass(s.maxInFlight));
  if (s.limit !== null) metric("limit", "gauge", "The limiter's concurrency limit.", [["", s.limit]]);
  metric("queued", "gauge", "Requests waiting in the limiter.", [["", s.queued]]);
  metric("requests_total", "counter", "Requests received.", byClass(s.requests.byClass));
  metric(
    "responses_total",
    "counter",
    "Responses by status class.",
    Object.entries(s.requests.byStatus).map(([status, n]) => [`{status="${status}"}`, n]),
  );
  metric("upstream_failures_total", "counter", "Requests the daemon could not answer.", [
    ["", s.requests.upstreamFailures],
  ]);
  const quantiles = (key: "latency" | "queuedTime"): [string, number][] =>
    CLASSES.flatMap((cls) => {
      const l = s[key][cls];
      return [
        [`{class="${cls}",quantile="0.5"}`, l.p50Ms],
        [`{class="${cls}",quantile="0.95"}`, l.p95Ms],
        [`{class="${cls}",quantile="0.99"}`, l.p99Ms],
      ] as [string, number][];
    });
  metric("latency_ms", "summary", "Daemon-side latency (ms) of recent requests.", quantiles("latency"));
  metric("queued_ms", "summary", "Time (ms) recent requests waited in the limiter.", quantiles("queuedTime"));
  metric("retries_total", "counter", "Requests sent again after a transient failure.", [["", s.retries]]);
  metric("rewrites_total", "counter", "Force removals turned into graceful ones.", [["", s.rewrites.total]]);
  metric("rewrite_failures_total", "counter", "Graceful removals that failed.", [["", s.rewrites.failed]]);
  metric(
    "denials_total",
    "counter",
    "Requests refused by the policy.",
    Object.entries(s.denials.byRule).map(([rule, n]) => [`{rule="${rule}"}`, n ?? 0]),
  );
  metric("bad_requests_total", "counter", "Requests refused as malformed or outside the API.", [
    ["", s.denials.badRequests],
  ]);
  metric("bytes_total", "counter", "Body and stream bytes relayed.", [
    ['{direction="from_clients"}', s.bytes.fromClients],
    ['{direction="to_clients"}', s.bytes.toClients],
  ]);
  return `${lines.join("\n")}\n`;
}
