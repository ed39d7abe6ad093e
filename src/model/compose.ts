// The typed model of a Compose project after parsing, interpolation, merging and validation.
// Everything downstream (planner, up/down, lint, memory) works on this model, never on YAML.
// Sizes are bytes, durations are milliseconds; paths are absolute.
import type { BuildFlags } from "../engine/image-api.js";

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

/** The name an inline Dockerfile (`dockerfile_inline`) has in the build context berth sends. */
export const INLINE_DOCKERFILE = ".berth-dockerfile-inline";

/** The `build` keys berth passes to the Engine's build API besides context, Dockerfile, args and target. */
export interface BuildSettings extends BuildFlags {
  /** `dockerfile_inline`: the Dockerfile's text (sent in the context as `dockerfile`). */
  dockerfileInline?: string;
  /** The network of the build's RUN steps: `default`, `host` or `none`. */
  network?: "default" | "host" | "none";
  /** Build without the daemon's layer cache, and never reuse an earlier build of berth's. */
  noCache?: boolean;
  /** `platforms` (one) or else the service's `platform`. */
  platform?: string;
  /** More names for the built image. */
  tags?: string[];
}

export interface BuildSpec extends BuildSettings {
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
  /** A fixed address on this network (`ipv4_address`; the network needs an `ipam` subnet). */
  ipv4Address?: string;
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
  /**
   * Commands run in the service's container, in order, before a reused environment is handed
   * over (`x-berth.reset`); each in exec form (a string in the file runs in `/bin/sh -c`).
   */
  reset?: string[][];
}

/** The project's reuse settings, from the top-level `x-berth.reuse` of its files. */
export interface ReuseSettings {
  /** `x-berth: { reuse: true }` (or a mapping) opts the project into reuse. */
  enabled: boolean;
  /** Idle time after which `berth gc` removes a reusable environment, ms (`x-berth.reuse.ttl`). */
  ttlMs?: number;
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

/** Where a secret's or config's content comes from. */
export type ProvidedSource =
  | { file: string }
  /** `value` is not enumerable, so it never appears in printed or serialised models. */
  | { environment: string; value: string }
  | { content: string };

/** A secret or config a service receives as a read-only file. */
export interface FileGrant {
  /** The secret's or config's key in the file. */
  name: string;
  /** Absolute path in the container (`/run/secrets/NAME` by default for secrets, `/NAME` for configs). */
  target: string;
  source: ProvidedSource;
  uid?: string;
  gid?: string;
  /** File mode, e.g. 0o444 (default 0o444). */
  mode?: number;
}

export interface DeviceMapping {
  /** Host device path. */
  source: string;
  target: string;
  /** `rwm` by default. */
  permissions: string;
}

export type PullPolicy = "missing" | "always" | "never" | "build";

/**
 * Container settings with one obvious Engine API field each (capabilities, ulimits, sysctls,
 * namespaces and the like). Sizes in bytes.
 */
export interface ContainerOptions {
  init?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** By name (`nofile`): soft and hard limit. */
  ulimits?: Record<string, { soft: number; hard: number }>;
  sysctls?: Record<string, string>;
  shmSizeBytes?: number;
  /** `HOST:ADDRESS` entries for /etc/hosts. */
  extraHosts?: string[];
  readOnly?: boolean;
  securityOpt?: string[];
  devices?: DeviceMapping[];
  stdinOpen?: boolean;
  tty?: boolean;
  platform?: string;
  logging?: { driver?: string; options: Record<string, string> };
  dnsSearch?: string[];
  dnsOpt?: string[];
  groupAdd?: string[];
  pidsLimit?: number;
  oomScoreAdj?: number;
  oomKillDisable?: boolean;
  ipc?: string;
  uts?: string;
  usernsMode?: string;
  runtime?: string;
  cgroupParent?: string;
  cpuShares?: number;
  cpuset?: string;
  memSwappiness?: number;
  domainname?: string;
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
  networkMode?: string;
  pid?: string;
  /** Custom DNS servers (`dns`). */
  dns?: string[];
  /**
   * `container_name`: answered as a DNS alias on the project's networks. The real container name
   * stays unique per run (`PROJECT-SERVICE-1`), so parallel runs never clash.
   */
  containerName?: string;
  /** The container's hostname, also a DNS alias on the project's networks. */
  hostname?: string;
  /** Everything else that maps to one Engine API field. */
  options?: ContainerOptions;
  /** `pull_policy`, as written (`if_not_present` is `missing`); applied by the image step. */
  pullPolicy?: PullPolicy;
  secrets?: FileGrant[];
  configs?: FileGrant[];
  /** `deploy.replicas` (or `scale`): how many containers run this service (default 1). */
  replicas?: number;
  /**
   * Set on the extra replicas `up` adds for a service with `replicas` above 1: replica N of
   * service S is the service `S-N` (its own endpoints, logs and label), container `PROJECT-S-N`.
   */
  replica?: { of: string; index: number };
  berth: BerthServiceExtension;
  /** Where the service is defined (first file that defines it). */
  location: SourceLocation;
}

export interface IpamConfig {
  subnet?: string;
  gateway?: string;
  ipRange?: string;
}

/** A top-level network or volume of the file. */
interface NamedResourceSpec {
  /** The file's `name:` when given (what an external one is called on the daemon), else the key. */
  name: string;
  external: boolean;
  driver?: string;
  labels: Record<string, string>;
  driverOpts?: Record<string, string>;
}

export interface NetworkSpec extends NamedResourceSpec {
  internal?: boolean;
  attachable?: boolean;
  /** Only when the file asks: a fixed subnet means two runs of the file cannot share the daemon. */
  ipam?: { driver?: string; config: IpamConfig[] };
}

export type NamedVolumeSpec = NamedResourceSpec;

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
  /** Top-level secrets and configs by key (services carry what they receive as FileGrants). */
  secrets?: Record<string, ProvidedSource>;
  configs?: Record<string, ProvidedSource>;
  /** Keys berth does not support, with where they were found (reported once as a warning). */
  unsupported: SourceLocation[];
  /** The files' top-level `x-berth.reuse`, when any file sets it (a later file wins). */
  reuse?: ReuseSettings;
}
