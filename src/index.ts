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
export { LABELS, sessionLabels } from "./janitor/labels.js";
export type { RemovalRecord, SafeRemoveOptions, StopOutcome } from "./lifecycle/safe-remove.js";
export { safeRemove } from "./lifecycle/safe-remove.js";
