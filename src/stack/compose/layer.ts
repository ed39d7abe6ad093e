// One file's contribution to a service, already parsed into model values with their locations.
// Files are merged layer by layer (merge.ts) and the result becomes a ServiceSpec (finalise.ts).

import type { PullPolicy } from "../../images/policy.js";
import type {
  BerthServiceExtension,
  HealthcheckSpec,
  PortMapping,
  ServiceNetwork,
  SourceLocation,
  VolumeMount,
} from "../model.js";

export interface Located<T> {
  value: T;
  location: SourceLocation;
}

export interface BuildLayer {
  context?: string;
  dockerfile?: string;
  args: Record<string, string>;
  target?: string;
}

export interface EnvFileRef {
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

export interface DeployLayer {
  memory?: Located<number>;
  reservation?: Located<number>;
  cpus?: Located<number>;
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
  pull_policy: PullPolicy;
  network_mode: Located<string>;
  pid: string;
  dns: string[];
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
}
