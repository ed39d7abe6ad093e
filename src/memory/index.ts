// The memory layer's public surface: sizes, limits and their verification, limit profiles, OOM
// diagnosis, usage sampling, the advisor, the environment watcher and Compose lint.
export type { AdviceChange, LimitAdvice, ObserveOptions, ServiceObservation } from "./advise.js";
export {
  ADVICE_RULE,
  ADVICE_TARGET_FRACTION,
  adviceOverrideYaml,
  adviseLimits,
  observePeaks,
  recommendLimit,
} from "./advise.js";
export type { ExitCause, ExitDiagnosis } from "./diagnose.js";
export { diagnoseExit, formatDiagnosis, oomProcessSummary, oomSummary, tailLines } from "./diagnose.js";
export type { MemoryMismatch } from "./errors.js";
export { MemoryMismatchError, OomKilledError } from "./errors.js";
export type {
  LimitSource,
  MemoryDefaults,
  MemoryHostConfig,
  ResolvedLimit,
  VerifyOptions,
} from "./limits.js";
export { memoryHostConfig, resolveMemoryLimit, verifyAppliedMemory } from "./limits.js";
export type { Finding, RuleId, Severity } from "./lint/finding.js";
export { countFindings, RULES } from "./lint/finding.js";
export type { LintOptions, LintSource } from "./lint/lint.js";
export { lintCompose } from "./lint/lint.js";
export { isTestComposeFile } from "./lint/rules.js";
export type { LimitProfile, LimitRule } from "./profiles.js";
export {
  limitProfileFromComposeFiles,
  limitProfileFromExtension,
  loadLimitProfile,
  matchLimitRule,
  mergeLimitProfiles,
  parseLimitProfile,
} from "./profiles.js";
export type { SizeContext } from "./size.js";
export { formatComposeSize, formatSize, MIN_MEMORY_BYTES, parseSize, roundUpToCleanSize } from "./size.js";
export type { ContainerRef, MemoryFigures, MemoryStatsSample, MemoryUsage, UsageWarning } from "./stats.js";
export { memoryFigures, projectContainers, sampleStats, usageWarnings } from "./stats.js";
export type {
  EnvironmentEvent,
  EnvironmentEventKind,
  EnvironmentEventSeverity,
  EnvironmentWatcher,
  WatchOptions,
} from "./watch.js";
export { formatEnvironmentEvent, formatEventSummary, watchEnvironment } from "./watch.js";
