// berth's public API (`berth-docker`): one readable list of what a test suite uses. The rest has
// its own entry: `berth-docker/vitest`, `berth-docker/jest`, `berth-docker/proxy`,
// `berth-docker/validate`. Everything else in src/ is internal and may change without notice.
// Named exports only, sorted by source path (biome keeps that order), so additions merge cleanly.

export type { DockerEndpoint } from "./engine/docker-host.js";
export type { EngineOptions, ExecResult } from "./engine/engine.js";
export { Engine } from "./engine/engine.js";
// --- errors: one hierarchy, each with a stable `code` (docs/errors.md) ---
export type { ConflictReason } from "./engine/errors.js";
export {
  AbortedError,
  BadRequestError,
  BerthError,
  BuildFailedError,
  ConfigError,
  ConflictError,
  DaemonUnavailableError,
  EngineError,
  isBerthError,
  NotFoundError,
  TimeoutError,
  TransientError,
} from "./engine/errors.js";
// --- the guarded engine: limiter, retries, metrics ---
export type {
  LimiterMode,
  LimiterOptions,
  LogFormat,
  LogOptions,
  RetryOptions,
} from "./guard/config.js";
export type { GuardedEngine, GuardOptions } from "./guard/guard.js";
export { createEngine, guardOf } from "./guard/guard.js";
export type { GuardMetrics, GuardMetricsSnapshot } from "./guard/metrics.js";
export type { ResourceRef } from "./janitor/errors.js";
export {
  AddressPoolsExhaustedError,
  LeakDetectedError,
  ReaperUnavailableError,
  SessionStateError,
  SnapshotFileError,
} from "./janitor/errors.js";
// --- cleanup: sessions, gc, leaks ---
export type { GcOptions, GcReport } from "./janitor/gc.js";
export { gc } from "./janitor/gc.js";
export type { LeakOptions, Snapshot } from "./janitor/leaks.js";
export { leaksSince, snapshot, waitForNoLeaks } from "./janitor/leaks.js";
export type { Session, SessionOptions, SessionState } from "./janitor/session.js";
export { createSession } from "./janitor/session.js";
export { NameConflictError } from "./lifecycle/create-container.js";
export { PortTakenError } from "./lifecycle/host-ports.js";
// --- safe removal ---
export type { RemovalRecord, SafeRemoveOptions, StopOutcome } from "./lifecycle/safe-remove.js";
export { safeRemove } from "./lifecycle/safe-remove.js";
export type { ServiceFailureKind } from "./lifecycle/service-errors.js";
export {
  HealthTimeoutError,
  ServiceExitedError,
  ServiceFailedError,
  StartFailedError,
  UnhealthyError,
} from "./lifecycle/service-errors.js";
export type {
  EnvironmentEvent,
  EnvironmentEventKind,
  EnvironmentEventSeverity,
  EnvironmentWatcher,
  WatchOptions,
} from "./lifecycle/watch.js";
export { watchEnvironment } from "./lifecycle/watch.js";
export { formatEnvironmentEvent, formatEventSummary } from "./lifecycle/watch-report.js";
export type { MemoryMismatch } from "./memory/errors.js";
export { MemoryMismatchError, OomKilledError } from "./memory/errors.js";
export type { ComposeProject, ServiceSpec } from "./model/compose.js";
export type { DurationContext } from "./model/duration.js";
export { parseDuration } from "./model/duration.js";
export type { LabelSelector } from "./model/labels.js";
export { ProxyStartError } from "./proxy/bind.js";
export { ListenAddressError } from "./proxy/listen-address.js";
export { PolicyFileError } from "./proxy/policy-file.js";
// --- the guard proxy (the rest of it: berth-docker/proxy) ---
export type { ProxyOptions, RunningProxy } from "./proxy/server.js";
export { startProxy } from "./proxy/server.js";
// --- environments: up/down, programmatic projects, endpoints handed to other processes ---
export type { ProjectDefinition, ServiceDefinition } from "./stack/builder.js";
export { defineProject } from "./stack/builder.js";
export type { LoadComposeOptions, LoadedCompose } from "./stack/compose/index.js";
export { ComposeError, loadCompose } from "./stack/compose/index.js";
export type { DownOptions, DownReport, ServiceRemoval } from "./stack/down.js";
export { DownIncompleteError, down } from "./stack/down.js";
export type { Endpoint } from "./stack/endpoints.js";
export { UnknownEndpointError } from "./stack/endpoints.js";
export type {
  EnvironmentDescriptor,
  EnvironmentDownOptions,
  EnvironmentEndpoints,
  EnvironmentWatchOptions,
  IncidentListener,
  ServiceInfo,
  StartedEnvironment,
  StoppedEnvironment,
} from "./stack/environment.js";
export {
  environmentFromEnv,
  environmentVariables,
  exportEnvironment,
} from "./stack/environment-variables.js";
export { UpInterruptedError, UpTimeoutError } from "./stack/errors.js";
export { ImageMissingError, ImagePullError } from "./stack/images.js";
export type { ProgressListener, ServicePhase, StackEvent } from "./stack/progress/events.js";
export type { ServiceStatus } from "./stack/status.js";
export { listServices } from "./stack/status.js";
export type { UpOptions } from "./stack/up.js";
export { up } from "./stack/up.js";
// --- a leak check for any test runner (Vitest's globalSetup form: berth-docker/vitest) ---
export type { LeakCheckOptions } from "./testing/leak-check.js";
export { startLeakCheck } from "./testing/leak-check.js";
