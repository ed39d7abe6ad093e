// What every request handler of one proxy shares: the daemon, the limiter, the metrics, the policy,
// the rewrite's engine and the access log.
import type { Engine } from "../engine/engine.js";
import type { OperationClass } from "../engine/operations.js";
import type { DispatchPolicy } from "../guard/dispatch.js";
import type { Limiter } from "../guard/limiter.js";
import type { ProxyMetrics } from "./metrics.js";
import type { ProxyPolicy } from "./policy.js";
import type { Upstream } from "./upstream.js";

/** One line of the access log: a request as the proxy handled it. */
export interface ProxyLogEntry {
  time: string;
  method: string;
  url: string;
  operation?: string;
  class?: OperationClass;
  status: number;
  /** Time waiting in the limiter (ms). */
  queuedMs?: number;
  /** Daemon-side time (ms), as in the metrics. */
  latencyMs?: number;
  /** Everything from the request's arrival to its end (ms). */
  durationMs: number;
  attempts?: number;
  bytesIn: number;
  bytesOut: number;
  /** What the proxy did besides relaying: a rewrite, a denial, a failure. */
  note?: string;
}

export interface ProxyContext {
  upstream: Upstream;
  limiter: Limiter;
  metrics: ProxyMetrics;
  policy: ProxyPolicy | undefined;
  /** Engine for the safe-removal rewrite; undefined when the rewrite is off. */
  rewrite: { engine: Engine; maxGraceSeconds?: number } | undefined;
  maxBodyBytes: number;
  /** Whether the daemon is Podman (asked once); its creates then get Docker's stop timeout. */
  isPodman: () => Promise<boolean>;
  /** The limiter above and the guard's retry policy: how every request reaches the daemon. */
  dispatch: DispatchPolicy;
  log: ((entry: ProxyLogEntry) => void) | undefined;
}
