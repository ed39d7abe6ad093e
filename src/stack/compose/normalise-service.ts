// One file's service entry (validated raw YAML) into a ServiceLayer: every value parsed into the
// model's units (bytes, milliseconds, absolute paths, argument lists) with its location.
import { dirname, resolve } from "node:path";
import { parseSize } from "../../memory/size.js";
import type { SourceLocation } from "../../model/compose.js";
import { parseDuration } from "../../model/duration.js";
import { parseBerthExtension } from "./berth-extension.js";
import { type FileContext, failAt, locationOf, parseAt } from "./file-context.js";
import { parseHealthcheck } from "./healthcheck.js";
import type { DependencyLayer, FieldName, Located, ServiceFields, ServiceLayer } from "./layer.js";
import { parseLabels, parseMapOrList } from "./mappings.js";
import { parseBuild } from "./normalise-build.js";
import { normaliseOptions } from "./normalise-options.js";
import type { PathSegment } from "./path.js";
import { parseExpose, parsePorts } from "./ports.js";
import type { RawService } from "./schema.js";
import { ShellSplitProblem, shellSplit } from "./shell-split.js";
import { parseTmpfs, parseVolume } from "./volumes.js";

const RESTART = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/;
const SIGNAL = /^(SIG)?[A-Z0-9]+(\+\d+)?$|^\d+$/;

function parseCommand(context: FileContext, path: PathSegment[], raw: string | string[]): string[] {
  if (Array.isArray(raw)) return raw;
  try {
    return shellSplit(raw);
  } catch (error) {
    if (error instanceof ShellSplitProblem)
      return failAt(context, path, `cannot split command: ${error.message}`, { value: raw });
    throw error;
  }
}

function located<T>(context: FileContext, path: PathSegment[], value: T): Located<T> {
  return { value, location: locationOf(context, path) };
}

function parseCpus(context: FileContext, path: PathSegment[], raw: string | number): Located<number> {
  const cpus = typeof raw === "number" ? raw : Number(raw.trim() === "" ? Number.NaN : raw);
  if (!Number.isFinite(cpus) || cpus <= 0) {
    failAt(context, path, "cpus must be a number above 0", { value: raw, hint: "Write e.g. 0.5 or 2." });
  }
  return located(context, path, cpus);
}

function parseMemory(
  context: FileContext,
  path: PathSegment[],
  raw: string | number,
  options: { limit?: boolean; swap?: boolean } = {},
): Located<number> {
  if (options.swap && (raw === -1 || raw === "-1")) return located(context, path, -1);
  return located(
    context,
    path,
    parseAt(context, path, () => parseSize(raw, { memory: options.limit })),
  );
}

function parseDependsOn(
  context: FileContext,
  path: PathSegment[],
  raw: NonNullable<RawService["depends_on"]>,
): Record<string, DependencyLayer> {
  const out: Record<string, DependencyLayer> = {};
  if (Array.isArray(raw)) {
    raw.forEach((name, index) => {
      out[name] = {
        condition: "service_started",
        required: true,
        location: locationOf(context, [...path, index]),
      };
    });
    return out;
  }
  for (const [name, entry] of Object.entries(raw)) {
    const dependency: DependencyLayer = { location: locationOf(context, [...path, name]) };
    if (entry?.condition !== undefined) dependency.condition = entry.condition;
    if (entry?.required !== undefined) dependency.required = entry.required;
    out[name] = dependency;
  }
  return out;
}

function parseNetworks(context: FileContext, path: PathSegment[], raw: NonNullable<RawService["networks"]>) {
  const out: ServiceFields["networks"] = {};
  if (Array.isArray(raw)) {
    raw.forEach((name, index) => {
      out[name] = { name, aliases: [], location: locationOf(context, [...path, index]) };
    });
  } else {
    for (const [name, entry] of Object.entries(raw)) {
      const network: ServiceFields["networks"][string] = {
        name,
        aliases: entry?.aliases ?? [],
        location: locationOf(context, [...path, name]),
      };
      const address = entry?.ipv4_address;
      if (address !== undefined) {
        if (!/^(\d{1,3})(\.\d{1,3}){3}$/.test(address)) {
          failAt(context, [...path, name, "ipv4_address"], "invalid IPv4 address", { value: address });
        }
        network.ipv4Address = address;
      }
      out[name] = network;
    }
  }
  return out;
}

function asList(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

/** Turns one file's `services.NAME` entry into a layer; `tags` are the file's `!reset`/`!override` fields. */
export function normaliseService(
  context: FileContext,
  name: string,
  raw: RawService,
  tags: { reset: Set<FieldName>; override: Set<FieldName> },
): ServiceLayer {
  const base: PathSegment[] = ["services", name];
  const at = (key: string, ...rest: PathSegment[]): PathSegment[] => [...base, key, ...rest];
  const fields: Partial<ServiceFields> = {};
  const locations: Partial<Record<FieldName, SourceLocation>> = {};

  if (raw.image !== undefined) fields.image = raw.image;
  if (raw.build !== undefined) fields.build = parseBuild(context, at("build"), raw.build);
  if (raw.command !== undefined) fields.command = parseCommand(context, at("command"), raw.command);
  if (raw.entrypoint !== undefined)
    fields.entrypoint = parseCommand(context, at("entrypoint"), raw.entrypoint);
  if (raw.environment !== undefined) {
    fields.environment = parseMapOrList(context, at("environment"), raw.environment);
  }
  if (raw.env_file !== undefined) {
    const entries = typeof raw.env_file === "string" ? [raw.env_file] : raw.env_file;
    fields.env_file = entries.map((entry, index) => {
      const spec = typeof entry === "string" ? { path: entry } : entry;
      const where = typeof raw.env_file === "string" ? at("env_file") : at("env_file", index);
      if (spec.format !== undefined && spec.format !== "raw") {
        failAt(context, [...where, "format"], "env_file format must be `raw` or absent", {
          value: spec.format,
        });
      }
      return {
        path: resolve(context.projectDir, spec.path),
        required: spec.required ?? true,
        raw: spec.format === "raw",
        location: locationOf(context, where),
      };
    });
  }
  if (raw.ports !== undefined) {
    fields.ports = raw.ports.flatMap((entry, index) => parsePorts(context, at("ports", index), entry));
  }
  if (raw.expose !== undefined) {
    fields.expose = raw.expose.flatMap((entry, index) => parseExpose(context, at("expose", index), entry));
  }
  if (raw.healthcheck !== undefined)
    fields.healthcheck = parseHealthcheck(context, at("healthcheck"), raw.healthcheck);
  if (raw.depends_on !== undefined)
    fields.depends_on = parseDependsOn(context, at("depends_on"), raw.depends_on);
  if (raw.mem_limit !== undefined) {
    fields.mem_limit = parseMemory(context, at("mem_limit"), raw.mem_limit, { limit: true });
  }
  if (raw.mem_reservation !== undefined) {
    fields.mem_reservation = parseMemory(context, at("mem_reservation"), raw.mem_reservation);
  }
  if (raw.memswap_limit !== undefined) {
    fields.memswap_limit = parseMemory(context, at("memswap_limit"), raw.memswap_limit, { swap: true });
  }
  if (raw.cpus !== undefined) fields.cpus = parseCpus(context, at("cpus"), raw.cpus);
  const resources = raw.deploy?.resources;
  if (raw.deploy) fields.deploy = {};
  if (raw.deploy?.replicas !== undefined) {
    fields.deploy!.replicas = located(context, at("deploy", "replicas"), raw.deploy.replicas);
  }
  if (resources) {
    const deploy: ServiceFields["deploy"] = fields.deploy!;
    const limits = resources.limits;
    const where = (...rest: string[]) => at("deploy", "resources", ...rest);
    if (limits?.memory !== undefined) {
      deploy.memory = parseMemory(context, where("limits", "memory"), limits.memory, { limit: true });
    }
    if (limits?.cpus !== undefined) deploy.cpus = parseCpus(context, where("limits", "cpus"), limits.cpus);
    if (limits?.pids !== undefined) deploy.pids = limits.pids;
    const reservation = resources.reservations?.memory;
    if (reservation !== undefined) {
      deploy.reservation = parseMemory(context, where("reservations", "memory"), reservation);
    }
    fields.deploy = deploy;
  }
  if (raw.stop_signal !== undefined) {
    const signal = raw.stop_signal.toUpperCase();
    if (!SIGNAL.test(signal))
      failAt(context, at("stop_signal"), "invalid stop signal", { value: raw.stop_signal });
    fields.stop_signal = signal;
  }
  if (raw.stop_grace_period !== undefined) {
    const value = raw.stop_grace_period;
    fields.stop_grace_period = parseAt(context, at("stop_grace_period"), () => parseDuration(value));
  }
  if (raw.restart !== undefined) {
    const match = RESTART.exec(raw.restart);
    if (!match || (match[2] !== undefined && match[1] !== "on-failure")) {
      failAt(context, at("restart"), "restart must be no, always, on-failure[:N] or unless-stopped", {
        value: raw.restart,
      });
    }
    const policy = match[1] as ServiceFields["restart"]["policy"];
    fields.restart = match[2] === undefined ? { policy } : { policy, maxRetries: Number(match[2]) };
  }
  if (raw.volumes !== undefined) {
    fields.volumes = raw.volumes.map((entry, index) => parseVolume(context, at("volumes", index), entry));
  }
  if (raw.networks !== undefined) fields.networks = parseNetworks(context, at("networks"), raw.networks);
  if (raw.labels !== undefined) fields.labels = parseLabels(context, at("labels"), raw.labels);
  if (raw.working_dir !== undefined) {
    if (!raw.working_dir.startsWith("/")) {
      failAt(context, at("working_dir"), "working_dir must be an absolute path", { value: raw.working_dir });
    }
    fields.working_dir = raw.working_dir;
  }
  if (raw.user !== undefined) fields.user = raw.user;
  if (raw.tmpfs !== undefined) {
    const entries = asList(raw.tmpfs);
    const where = (i: number) => (Array.isArray(raw.tmpfs) ? at("tmpfs", i) : at("tmpfs"));
    fields.tmpfs = entries.map((entry, i) => parseTmpfs(context, where(i), entry));
  }
  if (raw.profiles !== undefined) {
    raw.profiles.forEach((profile, index) => {
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(profile)) {
        failAt(context, at("profiles", index), "invalid profile name", { value: profile });
      }
    });
    fields.profiles = raw.profiles;
  }
  if (raw.privileged !== undefined) fields.privileged = raw.privileged;
  if (raw.network_mode !== undefined) {
    const mode = raw.network_mode;
    if (!/^(host|none|bridge|default|(service|container):.+)$/.test(mode)) {
      failAt(
        context,
        at("network_mode"),
        "network_mode must be host, none, bridge, service:NAME or container:NAME",
        {
          value: mode,
        },
      );
    }
    fields.network_mode = located(context, at("network_mode"), mode);
  }
  if (raw.pid !== undefined) fields.pid = raw.pid;
  if (raw.dns !== undefined) fields.dns = asList(raw.dns);
  normaliseOptions(context, raw, at, fields);
  if (raw["x-berth"] !== undefined)
    fields["x-berth"] = parseBerthExtension(context, at("x-berth"), raw["x-berth"]);

  for (const key of Object.keys(fields) as FieldName[]) locations[key] = locationOf(context, at(key));
  const layer: ServiceLayer = {
    name,
    location: locationOf(context, base),
    fields,
    locations,
    reset: tags.reset,
    override: tags.override,
  };
  if (raw.extends !== undefined) {
    const spec = typeof raw.extends === "string" ? { service: raw.extends } : raw.extends;
    layer.extends = { service: spec.service, location: locationOf(context, at("extends")) };
    if (spec.file !== undefined) layer.extends.file = resolve(dirname(context.source.file), spec.file);
  }
  return layer;
}
