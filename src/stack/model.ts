// The typed model of a Compose project after parsing, interpolation, merging and validation.
// Everything downstream (planner, up/down, lint, memory) works on this model, never on YAML.
// Sizes are bytes, durations are milliseconds; paths are absolute.
import type { PullPolicy } from "../images/policy.js";

/** Where a value came from, so errors and lint findings can name the file, line and column. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** The path inside the file, e.g. `services.api.ports[1]`. */
  path: string;
}

export interface PortMapping {
  /** Container port. */
  target: number;
  /** Host port; undefined means a dynamic one chosen by the daemon. */
  published?: number;
  /** Host address; berth defaults to 127.0.0.1. */
  hostIp?: string;
  protocol: "tcp" | "udp";
  location?: SourceLocation;
}

export interface HealthcheckSpec {
  /** Docker's form: ["CMD", ...], ["CMD-SHELL", "..."], or ["NONE"]. */
  test: string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
  startIntervalMs?: number;
  disable?: boolean;
}

export type DependencyCondition = "service_started" | "service_healthy" | "service_completed_successfully";

export interface Dependency {
  service: string;
  condition: DependencyCondition;
  /** Compose's `required` (default true). */
  required: boolean;
  /** Where the dependency is declared (added by the compose loader). */
  location?: SourceLocation;
}

export type VolumeMount = (
  | { type: "volume"; source: string; target: string; readOnly: boolean }
  | { type: "anonymous"; target: string; readOnly: boolean }
  | { type: "bind"; source: string; target: string; readOnly: boolean }
  | { type: "tmpfs"; target: string; sizeBytes?: number }
) & {
  /** Where the mount is declared (added by the compose loader). */
  location?: SourceLocation;
};

export interface BuildSpec {
  /** Absolute path of the build context. */
  context: string;
  /** Dockerfile path relative to the context. */
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
}

export interface ServiceNetwork {
  name: string;
  aliases: string[];
  /** Where the attachment is declared; absent for the implicit `default` network. */
  location?: SourceLocation;
}

/** berth's own per-service settings, from the `x-berth` extension key. */
export interface BerthServiceExtension {
  wait?: WaitStrategySpec[];
  /** Per-service readiness timeout, ms. */
  timeoutMs?: number;
  /** Lint rule ids this service deliberately breaks (e.g. `privileged`). */
  allow?: string[];
}

export type WaitStrategySpec =
  | { kind: "healthcheck" }
  | { kind: "port"; port: number }
  | { kind: "log"; pattern: string; times?: number }
  | { kind: "http"; port: number; path: string; status?: number }
  | { kind: "command"; command: string[] };

export interface ServiceMemory {
  /** mem_limit or deploy.resources.limits.memory, bytes. */
  limitBytes?: number;
  reservationBytes?: number;
  /** memswap_limit, bytes; -1 means unlimited swap. */
  swapLimitBytes?: number;
}

export interface ServiceSpec {
  name: string;
  image?: string;
  build?: BuildSpec;
  command?: string[];
  entrypoint?: string[];
  environment: Record<string, string>;
  ports: PortMapping[];
  expose: number[];
  healthcheck?: HealthcheckSpec;
  dependsOn: Dependency[];
  memory: ServiceMemory;
  cpus?: number;
  stopSignal?: string;
  stopGracePeriodMs?: number;
  restart?: "no" | "always" | "on-failure" | "unless-stopped";
  /** The N of `restart: on-failure:N`. */
  restartMaxRetries?: number;
  volumes: VolumeMount[];
  networks: ServiceNetwork[];
  labels: Record<string, string>;
  workingDir?: string;
  user?: string;
  tmpfs: VolumeMount[];
  profiles: string[];
  privileged?: boolean;
  /** Compose's `pull_policy` (default `missing`): when the image is pulled. */
  pullPolicy?: PullPolicy;
  networkMode?: string;
  pid?: string;
  /** Custom DNS servers (`dns`). */
  dns?: string[];
  berth: BerthServiceExtension;
  /** Where the service is defined (first file that defines it). */
  location: SourceLocation;
}

export interface NetworkSpec {
  /** The file's `name:` when given (what an external network is called on the daemon), else the key. */
  name: string;
  external: boolean;
  driver?: string;
  labels: Record<string, string>;
}

export interface NamedVolumeSpec {
  /** The file's `name:` when given (what an external volume is called on the daemon), else the key. */
  name: string;
  external: boolean;
  driver?: string;
  labels: Record<string, string>;
}

export interface ComposeProject {
  /** `name` from the files, if any (the CLI's -p wins). */
  name?: string;
  /** Absolute paths of the files, in merge order. */
  files: string[];
  /** The directory relative paths were resolved against (the first file's directory). */
  projectDir?: string;
  services: Record<string, ServiceSpec>;
  networks: Record<string, NetworkSpec>;
  volumes: Record<string, NamedVolumeSpec>;
  /** Keys berth does not support, with where they were found (reported once as a warning). */
  unsupported: SourceLocation[];
}
