// A programmatic way to describe an environment without a compose file: `defineProject` fills
// the model's defaults, so tests can build a `ComposeProject` in a few readable lines.
import { resolve } from "node:path";
import { ConfigError } from "../engine/errors.js";
import { parseSize } from "../memory/size.js";
import type {
  BerthServiceExtension,
  ComposeProject,
  Dependency,
  DependencyCondition,
  HealthcheckSpec,
  PortMapping,
  ServiceSpec,
  VolumeMount,
  WaitStrategySpec,
} from "../model/compose.js";

export interface ServiceDefinition {
  image?: string;
  /** A build context directory, or the full build spec. */
  build?: string | { context: string; dockerfile?: string; args?: Record<string, string>; target?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  /** `8080` (dynamic host port), `"5432:5432"` (fixed), or a full mapping. */
  ports?: (number | string | PortMapping)[];
  expose?: number[];
  healthcheck?: HealthcheckSpec;
  /** Service names (condition `service_started`), or a map of service name to condition. */
  dependsOn?: string[] | Record<string, DependencyCondition>;
  /** Memory limit: bytes or a size such as `64m`. */
  memory?: number | string;
  memoryReservation?: number | string;
  cpus?: number;
  stopSignal?: string;
  stopGracePeriodMs?: number;
  restart?: ServiceSpec["restart"];
  volumes?: VolumeMount[];
  labels?: Record<string, string>;
  workingDir?: string;
  user?: string;
  /** berth's readiness checks when the service has no healthcheck. */
  wait?: WaitStrategySpec[];
  /** Readiness timeout for this service, ms. */
  timeoutMs?: number;
  /** Compose's `pull_policy`: `missing` (default), `always`, `never` or `build`. */
  pullPolicy?: ServiceSpec["pullPolicy"];
}

export interface ProjectDefinition {
  /** Base of the project name (a per-run suffix is added unless a project name is given to `up`). */
  name?: string;
  services: Record<string, ServiceDefinition>;
  /** Named volumes the services mount. */
  volumes?: string[];
}

function parsePort(value: number | string | PortMapping, where: string): PortMapping {
  if (typeof value === "object") return value;
  if (typeof value === "number") return { target: value, protocol: "tcp" };
  const match = /^(?:(?:([\d.]+):)?(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(value);
  if (!match) {
    throw new ConfigError(`${where}: invalid port \`${value}\``, {
      resource: where,
      hint: 'Write "8080" (dynamic host port), "5432:5432" or "127.0.0.1:5432:5432/tcp".',
    });
  }
  return {
    target: Number(match[3]),
    ...(match[2] ? { published: Number(match[2]) } : {}),
    ...(match[1] ? { hostIp: match[1] } : {}),
    protocol: (match[4] as "tcp" | "udp" | undefined) ?? "tcp",
  };
}

function dependencies(input: ServiceDefinition["dependsOn"]): Dependency[] {
  if (!input) return [];
  if (Array.isArray(input))
    return input.map((service) => ({ service, condition: "service_started", required: true }));
  return Object.entries(input).map(([service, condition]) => ({ service, condition, required: true }));
}

function service(name: string, def: ServiceDefinition, cwd: string): ServiceSpec {
  const where = `services.${name}`;
  if (!def.image && !def.build) {
    throw new ConfigError(`${where}: a service needs \`image\` or \`build\``, { resource: where });
  }
  const build =
    def.build === undefined
      ? undefined
      : typeof def.build === "string"
        ? { context: resolve(cwd, def.build), dockerfile: "Dockerfile", args: {} }
        : {
            context: resolve(cwd, def.build.context),
            dockerfile: def.build.dockerfile ?? "Dockerfile",
            args: def.build.args ?? {},
            ...(def.build.target ? { target: def.build.target } : {}),
          };
  const berth: BerthServiceExtension = {};
  if (def.wait) berth.wait = def.wait;
  if (def.timeoutMs !== undefined) berth.timeoutMs = def.timeoutMs;
  const size = (value: number | string | undefined, key: string) =>
    value === undefined ? undefined : parseSize(value, { where: `${where}.${key}`, memory: true });
  const limitBytes = size(def.memory, "memory");
  const reservationBytes = size(def.memoryReservation, "memoryReservation");
  return {
    name,
    ...(def.image ? { image: def.image } : {}),
    ...(build ? { build } : {}),
    ...(def.command ? { command: def.command } : {}),
    ...(def.entrypoint ? { entrypoint: def.entrypoint } : {}),
    environment: def.environment ?? {},
    ports: (def.ports ?? []).map((p, i) => parsePort(p, `${where}.ports[${i}]`)),
    expose: def.expose ?? [],
    ...(def.healthcheck ? { healthcheck: def.healthcheck } : {}),
    dependsOn: dependencies(def.dependsOn),
    memory: {
      ...(limitBytes === undefined ? {} : { limitBytes }),
      ...(reservationBytes === undefined ? {} : { reservationBytes }),
    },
    ...(def.cpus === undefined ? {} : { cpus: def.cpus }),
    ...(def.stopSignal ? { stopSignal: def.stopSignal } : {}),
    ...(def.stopGracePeriodMs === undefined ? {} : { stopGracePeriodMs: def.stopGracePeriodMs }),
    ...(def.restart ? { restart: def.restart } : {}),
    volumes: def.volumes ?? [],
    networks: [],
    labels: def.labels ?? {},
    ...(def.workingDir ? { workingDir: def.workingDir } : {}),
    ...(def.user ? { user: def.user } : {}),
    ...(def.pullPolicy ? { pullPolicy: def.pullPolicy } : {}),
    tmpfs: [],
    profiles: [],
    berth,
    location: { file: "<programmatic>", path: where },
  };
}

/** Builds a `ComposeProject` from a compact definition; relative build contexts resolve from `cwd`. */
export function defineProject(definition: ProjectDefinition, cwd = process.cwd()): ComposeProject {
  const services: Record<string, ServiceSpec> = {};
  for (const [name, def] of Object.entries(definition.services)) services[name] = service(name, def, cwd);
  const volumes: ComposeProject["volumes"] = {};
  for (const name of definition.volumes ?? []) volumes[name] = { name, external: false, labels: {} };
  return {
    ...(definition.name ? { name: definition.name } : {}),
    files: [],
    services,
    networks: {},
    volumes,
    unsupported: [],
  };
}
