// berth's public API: one readable list of what the library offers.

export type { DockerEndpoint } from "./engine/docker-host.js";
export { resolveDockerEndpoint } from "./engine/docker-host.js";
export type {
  CallObserver,
  CallRecord,
  EngineCall,
  EngineEvent,
  EngineInterceptor,
  EngineOptions,
  ExecResult,
} from "./engine/engine.js";
export { Engine } from "./engine/engine.js";
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
export type { OperationClass, OperationName } from "./engine/operations.js";
export { OPERATIONS } from "./engine/operations.js";
export type { FixtureImage } from "./fixtures/busybox.js";
export { busyboxFixtureRef, ensureBusyboxFixture } from "./fixtures/busybox.js";
export type { ReferenceStackImages, ReferenceStackImagesOptions } from "./fixtures/reference-stack.js";
export {
  ensureReferenceStackImages,
  REFERENCE_IMAGE_REFS,
  staleReferenceImages,
} from "./fixtures/reference-stack.js";
export type { BuildPhase, BuildProgress } from "./fixtures/rootfs.js";
export { FixtureBuildError } from "./fixtures/rootfs.js";
// --- guard: limiter, retries, metrics, log ---
export type {
  Env,
  LimiterMode,
  LimiterOptions,
  LimiterSettings,
  LogFormat,
  LogOptions,
  RetryOptions,
  RetrySettings,
} from "./guard/config.js";
export {
  GUARD_ENV,
  resolveLimiterSettings,
  resolveLogSettings,
  resolveRetrySettings,
} from "./guard/config.js";
export type { GradientConfig, LimitChange } from "./guard/gradient.js";
export { DEFAULT_GRADIENT, GradientLaw } from "./guard/gradient.js";
export type { GuardedEngine, GuardOptions } from "./guard/guard.js";
export { createEngine, guardEngine, guardOf } from "./guard/guard.js";
export type {
  LimitChangeEvent,
  Limiter,
  LimiterConfig,
  LimiterSnapshot,
  Permit,
  PermitSample,
  PoolSnapshot,
} from "./guard/limiter.js";
export { createLimiter } from "./guard/limiter.js";
export type { CallLogEntry, GuardLog, LogSink } from "./guard/log.js";
export { createGuardLog } from "./guard/log.js";
export type { CallOutcome, GuardMetrics, GuardMetricsSnapshot, LatencySummary } from "./guard/metrics.js";
export { createGuardMetrics, renderMetrics } from "./guard/metrics.js";
export type { RetryDecision } from "./guard/retry.js";
export { backoffDelay, retryDecision, sampleOutcomeForStatus, sampleOutcomeOf } from "./guard/retry.js";
// --- janitor: labels, sessions, reaper, gc, leaks, address pools ---
export type { CreatedNetwork, NetworkRecoveryOptions } from "./janitor/address-pools.js";
export { createNetworkWithRecovery, isAddressPoolExhausted } from "./janitor/address-pools.js";
export type { ResourceRef } from "./janitor/errors.js";
export {
  AddressPoolsExhaustedError,
  LeakDetectedError,
  ReaperUnavailableError,
  SessionStateError,
  SnapshotFileError,
} from "./janitor/errors.js";
export type {
  GcKeepReason,
  GcOptions,
  GcRemoveReason,
  GcReport,
  GcRules,
  GcSession,
  GcVerdict,
  SessionFacts,
} from "./janitor/gc.js";
export { gc, gcVerdict, planGc } from "./janitor/gc.js";
export { listResources } from "./janitor/inventory.js";
export type { LabelSelector, OwnerIdentity, SessionLabelInput } from "./janitor/labels.js";
export {
  currentOwner,
  extraLabelsFromEnv,
  formatOwner,
  LABELS,
  parseLabelSelector,
  parseOwner,
  sessionFilter,
  sessionLabels,
} from "./janitor/labels.js";
export type { LeakOptions, Snapshot } from "./janitor/leaks.js";
export {
  diffResources,
  leaksSince,
  readSnapshotFile,
  snapshot,
  waitForNoLeaks,
  writeSnapshotFile,
} from "./janitor/leaks.js";
export type { OwnerLike, OwnerState, OwnershipOptions } from "./janitor/ownership.js";
export { isOwnerAlive, isReclaimable, ownerOf, ownerState } from "./janitor/ownership.js";
export { reaperDisabledByEnv, watchdogPid } from "./janitor/reaper.js";
export type { RemovalOutcome, RemoveResourcesOptions } from "./janitor/remove.js";
export { removeResources } from "./janitor/remove.js";
export type { Session, SessionOptions, SessionState } from "./janitor/session.js";
export { createSession, newSessionId } from "./janitor/session.js";
export { NameConflictError } from "./lifecycle/create-container.js";
// --- environments: up/down, wait strategies, endpoints, programmatic projects ---
export type { ContainerDiagnosis } from "./lifecycle/diagnose.js";
export { PortTakenError } from "./lifecycle/host-ports.js";
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
// --- memory: sizes, limits, OOM diagnosis, stats, advice, watcher, lint ---
export type { AdviceChange, LimitAdvice, ObserveOptions, ServiceObservation } from "./memory/advise.js";
export {
  ADVICE_RULE,
  adviceOverrideYaml,
  adviseLimits,
  observePeaks,
  recommendLimit,
} from "./memory/advise.js";
export type { ExitCause, ExitDiagnosis } from "./memory/diagnose.js";
export { diagnoseExit, formatDiagnosis } from "./memory/diagnose.js";
export type { MemoryMismatch } from "./memory/errors.js";
export { MemoryMismatchError, OomKilledError } from "./memory/errors.js";
export type {
  LimitSource,
  MemoryDefaults,
  MemoryHostConfig,
  ResolvedLimit,
  VerifyOptions,
} from "./memory/limits.js";
export { memoryHostConfig, resolveMemoryLimit, verifyAppliedMemory } from "./memory/limits.js";
export type { Finding, RuleId, Severity } from "./memory/lint/finding.js";
export { RULES as LINT_RULES } from "./memory/lint/finding.js";
export type { LintOptions, LintSource } from "./memory/lint/lint.js";
export { lintCompose } from "./memory/lint/lint.js";
export type { LimitProfile, LimitRule } from "./memory/profiles.js";
export {
  limitProfileFromComposeFiles,
  loadLimitProfile,
  matchLimitRule,
  parseLimitProfile,
} from "./memory/profiles.js";
export { formatSize, parseSize } from "./memory/size.js";
export type { ContainerRef, MemoryUsage, UsageWarning } from "./memory/stats.js";
export { projectContainers, sampleStats, usageWarnings } from "./memory/stats.js";
export type {
  EnvironmentEvent,
  EnvironmentEventKind,
  EnvironmentEventSeverity,
  EnvironmentWatcher,
  WatchOptions,
} from "./memory/watch.js";
export { formatEnvironmentEvent, formatEventSummary, watchEnvironment } from "./memory/watch.js";
// --- proxy: a Docker API socket with the limiter, graceful removal, policy and metrics ---
// (its Vitest globalSetup, src/testing/proxy-setup.ts, imports vitest: it belongs in `berth-docker/vitest`)
export type { ProxyLogEntry } from "./proxy/context.js";
export { ListenAddressError } from "./proxy/listen-address.js";
export type { LatencySummary as ProxyLatencySummary, ProxyMetricsSnapshot } from "./proxy/metrics.js";
export { toPrometheus } from "./proxy/metrics.js";
export type { Denial, ProxyPolicy } from "./proxy/policy.js";
export { loadPolicyFile, PolicyFileError } from "./proxy/policy-file.js";
export type { ProxyOptions, RunningProxy } from "./proxy/server.js";
export { ProxyStartError, startProxy } from "./proxy/server.js";
export type { DurationContext } from "./shared/duration.js";
export {
  formatDuration as formatComposeDuration,
  parseDuration as parseComposeDuration,
  parseDuration,
} from "./shared/duration.js";
export type { ProjectDefinition, ServiceDefinition } from "./stack/builder.js";
export { defineProject } from "./stack/builder.js";
export type {
  ComposeErrorDetails,
  LoadComposeOptions,
  LoadedCompose,
  Position,
} from "./stack/compose/index.js";
export { ComposeError, findDefaultComposeFiles, loadCompose, locate } from "./stack/compose/index.js";
export type { DownOptions, DownReport, ServiceRemoval } from "./stack/down.js";
export { DownIncompleteError, down } from "./stack/down.js";
export type { Endpoint } from "./stack/endpoints.js";
export { UnknownEndpointError } from "./stack/endpoints.js";
export type {
  EnvironmentDescriptor,
  EnvironmentDownOptions,
  EnvironmentWatchOptions,
  IncidentListener,
  ServiceInfo,
} from "./stack/environment.js";
export { EnvironmentEndpoints, StartedEnvironment, StoppedEnvironment } from "./stack/environment.js";
export {
  environmentFromEnv,
  environmentVariables,
  exportEnvironment,
} from "./stack/environment-variables.js";
export { UpInterruptedError, UpTimeoutError } from "./stack/errors.js";
export { ImageMissingError, ImagePullError } from "./stack/images.js";
export type {
  BerthServiceExtension,
  BuildSpec,
  ComposeProject,
  Dependency,
  DependencyCondition,
  HealthcheckSpec,
  NamedVolumeSpec,
  NetworkSpec,
  PortMapping,
  ServiceMemory,
  ServiceNetwork,
  ServiceSpec,
  SourceLocation,
  VolumeMount,
  WaitStrategySpec,
} from "./stack/model.js";
export type { PlannedStart, PlannedStop, PlanOptions, ShutdownPlan, StartupPlan } from "./stack/plan.js";
export { findDependencyCycle, planShutdown, planStartup } from "./stack/plan.js";
export type { ProgressListener, ServicePhase, StackEvent } from "./stack/progress/events.js";
export type { ServiceStatus } from "./stack/status.js";
export { listServices } from "./stack/status.js";
export type { UpOptions } from "./stack/up.js";
export { up } from "./stack/up.js";
// --- testing: leak check for test runners ---
export type { LeakCheckOptions } from "./testing/leak-check.js";
export { leakCheckGlobalSetup, startLeakCheck } from "./testing/leak-check.js";
// --- validate: stability scenarios, results and reports ---
export { CATEGORIES as VALIDATION_CATEGORIES, selectCategories } from "./validate/catalogue.js";
export type {
  CategorySummary,
  ConcurrencyFigure,
  Evidence,
  EvidenceValue,
  MachineFacts,
  PerfOperation,
  ScenarioResult,
  ScenarioStatus,
  ValidationResults,
} from "./validate/model.js";
export { RESULTS_SCHEMA } from "./validate/model.js";
export type { LatencyChange, RunComparison, ScenarioChange } from "./validate/report/compare.js";
export { compareRuns } from "./validate/report/compare.js";
export { readResults, writeReportDir } from "./validate/report/files.js";
export { renderHtml } from "./validate/report/html.js";
export { renderMarkdown } from "./validate/report/markdown.js";
export type { ProgressEvent, RunOptions } from "./validate/runner.js";
export { runValidation } from "./validate/runner.js";
export type { Category, FixtureSpec, Scenario, ScenarioContext } from "./validate/scenario.js";
export { ScenarioAssertionError, ScenarioSkipped } from "./validate/scenario.js";
