// One file's contribution to a service, already parsed into model values with their locations.
// Files are merged layer by layer (merge.ts) and the result becomes a ServiceSpec (finalise.ts).

import type {
  BerthServiceExtension,
  BuildSettings,
  DeviceMapping,
  HealthcheckSpec,
  PortMapping,
  ServiceNetwork,
  SourceLocation,
  VolumeMount,
} from "../../model/compose.js";

export interface Located<T> {
  value: T;
  location: SourceLocation;
}

export interface BuildLayer extends BuildSettings {
  context?: string;
  dockerfile?: string;
  args: Record<string, string>;
  target?: string;
}

interface EnvFileRef {
  /** Absolute path. */
  path: string;
  required: boolean;
  raw: boolean;
  location: SourceLocation;
}

export interface DependencyLayer {
  condition?: "service_started" | "service_healthy" | "service_completed_successfully";
  required?: boolean;
  location: SourceLocation;
}

interface DeployLayer {
  memory?: Located<number>;
  reservation?: Located<number>;
  cpus?: Located<number>;
  pids?: number;
  replicas?: Located<number>;
}

/** A service's reference to a top-level secret or config, as written. */
export interface GrantLayer {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
  location: SourceLocation;
}

/** `extends`: the service this one starts from, in this file or another. */
interface ExtendsRef {
  service: string;
  /** Absolute path; absent for the same file. */
  file?: string;
  location: SourceLocation;
}

/** Service fields keyed by their Compose names, so merge rules and `!reset` tags line up with the file. */
export interface ServiceFields {
  image: string;
  build: BuildLayer;
  command: string[];
  entrypoint: string[];
  /** `null`: take the value from the environment (`- NAME` or `NAME:`). */
  environment: Record<string, string | null>;
  env_file: EnvFileRef[];
  ports: PortMapping[];
  expose: number[];
  healthcheck: Partial<HealthcheckSpec>;
  depends_on: Record<string, DependencyLayer>;
  mem_limit: Located<number>;
  mem_reservation: Located<number>;
  memswap_limit: Located<number>;
  cpus: Located<number>;
  deploy: DeployLayer;
  stop_signal: string;
  stop_grace_period: number;
  restart: { policy: "no" | "always" | "on-failure" | "unless-stopped"; maxRetries?: number };
  volumes: VolumeMount[];
  networks: Record<string, ServiceNetwork>;
  labels: Record<string, string>;
  working_dir: string;
  user: string;
  tmpfs: VolumeMount[];
  profiles: string[];
  privileged: boolean;
  network_mode: Located<string>;
  pid: string;
  dns: string[];
  dns_search: string[];
  dns_opt: string[];
  container_name: string;
  hostname: string;
  domainname: string;
  init: boolean;
  cap_add: string[];
  cap_drop: string[];
  ulimits: Record<string, { soft: number; hard: number }>;
  sysctls: Record<string, string>;
  shm_size: number;
  extra_hosts: string[];
  read_only: boolean;
  security_opt: string[];
  devices: DeviceMapping[];
  stdin_open: boolean;
  tty: boolean;
  platform: string;
  pull_policy: "missing" | "always" | "never" | "build";
  logging: { driver?: string; options: Record<string, string> };
  secrets: GrantLayer[];
  configs: GrantLayer[];
  scale: Located<number>;
  group_add: string[];
  pids_limit: number;
  oom_score_adj: number;
  oom_kill_disable: boolean;
  ipc: string;
  uts: string;
  userns_mode: string;
  runtime: string;
  cgroup_parent: string;
  cpu_shares: number;
  cpuset: string;
  mem_swappiness: number;
  "x-berth": BerthServiceExtension;
}

export type FieldName = keyof ServiceFields;

export interface ServiceLayer {
  name: string;
  /** Where this file mentions the service (`services.NAME`). */
  location: SourceLocation;
  fields: Partial<ServiceFields>;
  /** Where each field was set, for errors found after merging. */
  locations: Partial<Record<FieldName, SourceLocation>>;
  /** Fields this file clears (`!reset`) or replaces without merging (`!override`). */
  reset: Set<FieldName>;
  override: Set<FieldName>;
  /** `extends`, resolved (and cleared) by the loader before files are merged. */
  extends?: ExtendsRef;
}
