// `berth-docker/proxy`: the guard proxy from code (a Docker API socket every client shares:
// limiter, graceful removal, policy, metrics). `startProxy` is in the root entry as well.

export { ProxyStartError } from "./bind.js";
export { ListenAddressError } from "./listen-address.js";
export type { LatencySummary, ProxyMetricsSnapshot } from "./metrics.js";
export { toPrometheus } from "./metrics.js";
export type { Denial, ProxyPolicy } from "./policy.js";
export { loadPolicyFile, PolicyFileError } from "./policy-file.js";
export type { ProxyLogEntry } from "./proxy-context.js";
export type { ProxyOptions, RunningProxy } from "./server.js";
export { startProxy } from "./server.js";
