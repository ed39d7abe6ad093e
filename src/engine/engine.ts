// The engine gateway: the only code in berth that talks to the Docker Engine API. Every call is
// named from the operation catalogue, passes the interceptors (the guard installs its limiter and
// retries there), is observed (operation, class, duration, outcome) and fails with a typed error.
// Requests go straight over node:http on a keep-alive transport (transport.ts): no client library.
// The methods are written per resource, one file each, chained in one direction:
// core.ts -> system-api.ts -> container-api.ts -> exec-api.ts -> network-api.ts -> image-api.ts.
import { ImageApi } from "./image-api.js";

export { type ContainerLogOptions, DEFAULT_STOP_TIMEOUT_SECONDS } from "./container-api.js";
export type { CallObserver, CallRecord, EngineCall, EngineInterceptor, EngineOptions } from "./core.js";
export { demuxDockerStream, FrameDecoder } from "./demux.js";
export type { AttachOptions, ExecResult, ExecStartOptions } from "./exec-api.js";
export {
  type BuildOptions,
  buildQuery,
  type ImportOptions,
  type PullOptions,
  pullQuery,
} from "./image-api.js";
export type { EngineEvent } from "./types.js";

/** A Docker Engine API client: every method one named, intercepted, observed operation. */
export class Engine extends ImageApi {}
