// A merged service layer into the model's ServiceSpec: env files read and combined with
// `environment`, memory and CPU settings reconciled (conflicts refused), defaults filled in.
import { formatSize } from "../../memory/size.js";
import {
  type Dependency,
  INLINE_DOCKERFILE,
  type ServiceMemory,
  type ServiceSpec,
} from "../../model/compose.js";
import { DotenvProblem, parseDotenv } from "./dotenv.js";
import { ComposeError } from "./errors.js";
import { finishGrants, finishOptions, type ProvidedFiles } from "./finish-options.js";
import { finishHealthcheck } from "./healthcheck.js";
import { type ComposeReader, fsReader } from "./inputs.js";
import type { Located, ServiceLayer } from "./layer.js";

async function readEnvFiles(
  layer: ServiceLayer,
  lookup: (name: string) => string | undefined,
  reader: ComposeReader,
) {
  const values: Record<string, string> = {};
  for (const ref of layer.fields.env_file ?? []) {
    let text: string;
    try {
      text = await reader.readFile(ref.path);
    } catch (cause) {
      if (!ref.required && (cause as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw ComposeError.at(
        ref.location,
        `env_file ${ref.path} cannot be read (${(cause as NodeJS.ErrnoException).code})`,
        {
          hint: "Create the file, fix the path (relative to the first compose file's directory), or mark it required: false.",
          cause,
        },
      );
    }
    try {
      Object.assign(values, parseDotenv(text, { lookup, raw: ref.raw }));
    } catch (error) {
      if (error instanceof DotenvProblem) {
        throw new ComposeError(error.message, { file: ref.path, line: error.line, path: "", cause: error });
      }
      throw error;
    }
  }
  return values;
}

/** The one value of a setting that Compose lets you write in two places; different values are refused. */
function reconcile(
  name: string,
  first: Located<number> | undefined,
  second: Located<number> | undefined,
  show: (n: number) => string,
): number | undefined {
  if (first && second && first.value !== second.value) {
    throw ComposeError.at(
      second.location,
      `conflicts with ${first.location.path} (${show(first.value)} vs ${show(second.value)}) in service ${name}`,
      { hint: "Set the value in one place, or make both the same." },
    );
  }
  return (second ?? first)?.value;
}

function finishMemory(layer: ServiceLayer): ServiceMemory {
  const f = layer.fields;
  const memory: ServiceMemory = {};
  const limit = reconcile(layer.name, f.mem_limit, f.deploy?.memory, formatSize);
  const reservation = reconcile(layer.name, f.mem_reservation, f.deploy?.reservation, formatSize);
  if (limit !== undefined) memory.limitBytes = limit;
  if (reservation !== undefined) {
    if (limit !== undefined && reservation > limit) {
      const where = f.mem_reservation ?? f.deploy?.reservation;
      throw ComposeError.at(
        where!.location,
        `memory reservation ${formatSize(reservation)} is above the limit ${formatSize(limit)}`,
        {
          hint: "A reservation is a soft minimum; keep it at or below the limit.",
        },
      );
    }
    memory.reservationBytes = reservation;
  }
  if (f.memswap_limit) {
    const swap = f.memswap_limit.value;
    if (limit === undefined) {
      throw ComposeError.at(f.memswap_limit.location, "memswap_limit needs a memory limit (mem_limit)", {
        hint: "Docker refuses a swap limit without a memory limit.",
      });
    }
    if (swap !== -1 && swap < limit) {
      throw ComposeError.at(
        f.memswap_limit.location,
        `memswap_limit ${formatSize(swap)} is below the memory limit ${formatSize(limit)}`,
        {
          hint: "memswap_limit is memory plus swap: set it at or above mem_limit, or -1 for unlimited swap.",
        },
      );
    }
    memory.swapLimitBytes = swap;
  }
  return memory;
}

/** One fixed address per service, on a network berth connects at create (its first). */
function checkAddresses(spec: ServiceSpec, layer: ServiceLayer): void {
  const fixed = spec.networks.filter((n) => n.ipv4Address !== undefined);
  if (fixed.length > 1) {
    throw ComposeError.at(
      fixed[1]!.location ?? layer.location,
      "berth sets ipv4_address on one network per service",
      {
        hint: "Keep the fixed address on one network; the others get a dynamic one.",
      },
    );
  }
  // The network with the fixed address goes first: it is the one given at create.
  if (fixed.length === 1)
    spec.networks = [...fixed, ...spec.networks.filter((n) => n.ipv4Address === undefined)];
  if ((spec.replicas ?? 1) > 1 && (fixed.length > 0 || spec.containerName !== undefined)) {
    throw ComposeError.at(
      layer.location,
      `service ${layer.name} has ${spec.replicas} replicas but one fixed ${fixed.length > 0 ? "ipv4_address" : "container_name"}`,
      {
        hint: "A fixed address or name belongs to one container; drop it or run one replica.",
      },
    );
  }
}

export async function finishService(
  layer: ServiceLayer,
  lookup: (name: string) => string | undefined,
  projectDir: string,
  provided: ProvidedFiles = { secrets: {}, configs: {} },
  reader: ComposeReader = fsReader,
): Promise<ServiceSpec> {
  const f = layer.fields;
  if (f.image === undefined && f.build === undefined) {
    throw ComposeError.at(layer.location, `service ${layer.name} has neither image nor build`, {
      hint: "Give it an image (e.g. image: berth-fixture/busybox:1.35.0) or a build context.",
    });
  }
  if (f.pull_policy === "build" && f.build === undefined) {
    throw ComposeError.at(
      layer.locations.pull_policy ?? layer.location,
      `service ${layer.name} has pull_policy build but no build section`,
      { hint: "Add a build section, or use pull_policy missing, always or never." },
    );
  }
  if (f.network_mode && f.networks) {
    throw ComposeError.at(
      layer.locations.networks ?? layer.location,
      "network_mode and networks cannot be combined",
      {
        hint: "A service either joins networks or shares another network namespace, not both.",
      },
    );
  }
  const environment = await readEnvFiles(layer, lookup, reader);
  for (const [key, value] of Object.entries(f.environment ?? {})) {
    const resolved = value ?? lookup(key);
    if (resolved === undefined) delete environment[key];
    else environment[key] = resolved;
  }
  const dependsOn: Dependency[] = Object.entries(f.depends_on ?? {}).map(([service, d]) => ({
    service,
    condition: d.condition ?? "service_started",
    required: d.required ?? true,
    location: d.location,
  }));
  const networks = f.network_mode
    ? []
    : f.networks
      ? Object.values(f.networks)
      : [{ name: "default", aliases: [] }];
  const spec: ServiceSpec = {
    name: layer.name,
    environment,
    ports: f.ports ?? [],
    expose: f.expose ?? [],
    dependsOn,
    memory: finishMemory(layer),
    volumes: f.volumes ?? [],
    networks,
    labels: f.labels ?? {},
    tmpfs: f.tmpfs ?? [],
    profiles: f.profiles ?? [],
    options: finishOptions(layer),
    secrets: finishGrants("secrets", layer, provided),
    configs: finishGrants("configs", layer, provided),
    berth: f["x-berth"] ?? {},
    location: layer.location,
  };
  if (f.image !== undefined) spec.image = f.image;
  if (f.build) {
    const { context, dockerfile, dockerfileInline, ...settings } = f.build;
    spec.build = {
      ...settings,
      context: context ?? projectDir,
      // An inline Dockerfile is sent in the context under a name no file of the context has.
      dockerfile: dockerfileInline !== undefined ? INLINE_DOCKERFILE : (dockerfile ?? "Dockerfile"),
    };
    if (dockerfileInline !== undefined) spec.build.dockerfileInline = dockerfileInline;
    // As in Compose, the service's platform is the build's unless `build.platforms` names one.
    const platform = settings.platform ?? f.platform;
    if (platform !== undefined) spec.build.platform = platform;
  }
  if (f.command) spec.command = f.command;
  if (f.entrypoint) spec.entrypoint = f.entrypoint;
  const healthcheck = finishHealthcheck(f.healthcheck);
  if (healthcheck) spec.healthcheck = healthcheck;
  const cpus = reconcile(layer.name, f.cpus, f.deploy?.cpus, String);
  if (cpus !== undefined) spec.cpus = cpus;
  if (f.stop_signal !== undefined) spec.stopSignal = f.stop_signal;
  if (f.stop_grace_period !== undefined) spec.stopGracePeriodMs = f.stop_grace_period;
  if (f.restart) {
    spec.restart = f.restart.policy;
    if (f.restart.maxRetries !== undefined) spec.restartMaxRetries = f.restart.maxRetries;
  }
  if (f.working_dir !== undefined) spec.workingDir = f.working_dir;
  if (f.user !== undefined) spec.user = f.user;
  if (f.privileged !== undefined) spec.privileged = f.privileged;
  if (f.network_mode) spec.networkMode = f.network_mode.value;
  if (f.pid !== undefined) spec.pid = f.pid;
  if (f.dns) spec.dns = f.dns;
  if (f.container_name !== undefined) spec.containerName = f.container_name;
  if (f.hostname !== undefined) spec.hostname = f.hostname;
  if (f.pull_policy !== undefined) spec.pullPolicy = f.pull_policy;
  const replicas = reconcile(layer.name, f.scale, f.deploy?.replicas, String);
  if (replicas !== undefined) {
    if (replicas < 0) {
      throw ComposeError.at((f.deploy?.replicas ?? f.scale)!.location, "replicas cannot be negative", {
        value: replicas,
      });
    }
    spec.replicas = replicas;
  }
  checkAddresses(spec, layer);
  return spec;
}
