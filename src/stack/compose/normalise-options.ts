// The service keys that become one container setting each (capabilities, ulimits, sysctls,
// devices, hosts, logging, namespaces), and `secrets`/`configs` references, parsed from one file's
// validated service entry into its layer.
import { parseSize } from "../../memory/size.js";
import type { DeviceMapping } from "../../model/compose.js";
import { type FileContext, failAt, locationOf, parseAt } from "./file-context.js";
import type { GrantLayer, ServiceFields } from "./layer.js";
import { parseMapOrList } from "./mappings.js";
import type { PathSegment } from "./path.js";
import type { RawService } from "./schema.js";

const PULL_POLICIES: Record<string, ServiceFields["pull_policy"]> = {
  always: "always",
  never: "never",
  missing: "missing",
  if_not_present: "missing",
  build: "build",
};

function asList(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

function capabilities(context: FileContext, path: PathSegment[], raw: string[]): string[] {
  return raw.map((cap, index) => {
    const name = cap.toUpperCase();
    if (!/^(CAP_)?[A-Z_]+$/.test(name) && name !== "ALL") {
      failAt(context, [...path, index], "invalid capability (e.g. NET_ADMIN, SYS_PTRACE, ALL)", {
        value: cap,
      });
    }
    return name.replace(/^CAP_/, "");
  });
}

export function ulimits(
  context: FileContext,
  path: PathSegment[],
  raw: NonNullable<RawService["ulimits"]>,
): ServiceFields["ulimits"] {
  const out: ServiceFields["ulimits"] = {};
  for (const [name, value] of Object.entries(raw)) {
    const limit = typeof value === "number" ? { soft: value, hard: value } : value;
    if (limit.soft > limit.hard && limit.hard !== -1) {
      failAt(context, [...path, name], `soft limit ${limit.soft} is above hard limit ${limit.hard}`, {
        value,
      });
    }
    out[name] = limit;
  }
  return out;
}

export function extraHosts(
  context: FileContext,
  path: PathSegment[],
  raw: NonNullable<RawService["extra_hosts"]>,
): string[] {
  const entries = Array.isArray(raw)
    ? raw.map((entry, index) => {
        // Compose accepts HOST:ADDRESS and HOST=ADDRESS; an IPv6 address has colons of its own.
        const match = /^([^:=]+)[:=](.+)$/.exec(entry);
        if (!match) failAt(context, [...path, index], "expected HOST:ADDRESS", { value: entry });
        return [match[1]!, match[2]!] as const;
      })
    : Object.entries(raw).flatMap(([host, address]) => asList(address).map((a) => [host, a] as const));
  return entries.map(([host, address]) => `${host}:${address.replace(/^\[(.*)\]$/, "$1")}`);
}

export function platform(context: FileContext, path: PathSegment[], raw: string): string {
  if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(raw)) {
    failAt(context, path, "a platform is OS/ARCH[/VARIANT], such as linux/amd64", { value: raw });
  }
  return raw;
}

function devices(
  context: FileContext,
  path: PathSegment[],
  raw: NonNullable<RawService["devices"]>,
): DeviceMapping[] {
  return raw.map((entry, index) => {
    const spec =
      typeof entry === "string"
        ? (() => {
            const [source = "", target, permissions] = entry.split(":");
            return { source, target, permissions };
          })()
        : entry;
    if (!spec.source.startsWith("/")) {
      failAt(context, [...path, index], "a device is a host path such as /dev/fuse", { value: entry });
    }
    const permissions = spec.permissions ?? "rwm";
    if (!/^[rwm]+$/.test(permissions)) {
      failAt(context, [...path, index], "device permissions are letters from rwm", { value: entry });
    }
    return { source: spec.source, target: spec.target ?? spec.source, permissions };
  });
}

function fileMode(context: FileContext, path: PathSegment[], raw: number | string): number {
  // YAML 1.2 reads 0440 as decimal 440; Compose means octal, as people write it.
  const text = String(raw);
  const mode =
    /^0o?[0-7]+$/.test(text) || /^[0-7]{3,4}$/.test(text)
      ? Number.parseInt(text.replace(/^0o/, ""), 8)
      : Number.NaN;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    failAt(context, path, "a file mode is octal, such as 0440", { value: raw });
  }
  return mode;
}

function grants(
  context: FileContext,
  path: PathSegment[],
  raw: NonNullable<RawService["secrets"]>,
): GrantLayer[] {
  return raw.map((entry, index) => {
    const location = locationOf(context, [...path, index]);
    if (typeof entry === "string") return { source: entry, location };
    const grant: GrantLayer = { source: entry.source, location };
    if (entry.target !== undefined) grant.target = entry.target;
    for (const key of ["uid", "gid"] as const) {
      const id = entry[key];
      if (id === undefined) continue;
      if (!/^\d+$/.test(id)) failAt(context, [...path, index, key], `${key} is a number`, { value: id });
      grant[key] = id;
    }
    if (entry.mode !== undefined) grant.mode = fileMode(context, [...path, index, "mode"], entry.mode);
    return grant;
  });
}

/** Sets the container-option fields of `fields` from `raw`. */
export function normaliseOptions(
  context: FileContext,
  raw: RawService,
  at: (key: string, ...rest: PathSegment[]) => PathSegment[],
  fields: Partial<ServiceFields>,
): void {
  if (raw.container_name !== undefined) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(raw.container_name)) {
      failAt(context, at("container_name"), "invalid container name", { value: raw.container_name });
    }
    fields.container_name = raw.container_name;
  }
  if (raw.hostname !== undefined) {
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(raw.hostname)) {
      failAt(context, at("hostname"), "invalid host name", { value: raw.hostname });
    }
    fields.hostname = raw.hostname;
  }
  if (raw.domainname !== undefined) fields.domainname = raw.domainname;
  if (raw.init !== undefined) fields.init = raw.init;
  if (raw.cap_add !== undefined) fields.cap_add = capabilities(context, at("cap_add"), raw.cap_add);
  if (raw.cap_drop !== undefined) fields.cap_drop = capabilities(context, at("cap_drop"), raw.cap_drop);
  if (raw.ulimits !== undefined) fields.ulimits = ulimits(context, at("ulimits"), raw.ulimits);
  if (raw.sysctls !== undefined) {
    const map = parseMapOrList(context, at("sysctls"), raw.sysctls);
    fields.sysctls = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, v ?? ""]));
  }
  if (raw.shm_size !== undefined) {
    const size = raw.shm_size;
    fields.shm_size = parseAt(context, at("shm_size"), () => parseSize(size));
  }
  if (raw.extra_hosts !== undefined)
    fields.extra_hosts = extraHosts(context, at("extra_hosts"), raw.extra_hosts);
  if (raw.read_only !== undefined) fields.read_only = raw.read_only;
  if (raw.security_opt !== undefined) fields.security_opt = raw.security_opt;
  if (raw.devices !== undefined) fields.devices = devices(context, at("devices"), raw.devices);
  if (raw.stdin_open !== undefined) fields.stdin_open = raw.stdin_open;
  if (raw.tty !== undefined) fields.tty = raw.tty;
  if (raw.platform !== undefined) fields.platform = platform(context, at("platform"), raw.platform);
  if (raw.pull_policy !== undefined) {
    const policy = PULL_POLICIES[raw.pull_policy];
    if (!policy) {
      failAt(
        context,
        at("pull_policy"),
        "pull_policy must be always, never, missing, if_not_present or build",
        {
          value: raw.pull_policy,
        },
      );
    }
    fields.pull_policy = policy;
  }
  if (raw.logging !== undefined) {
    const options = Object.fromEntries(
      Object.entries(raw.logging.options ?? {}).map(([k, v]) => [k, v === null ? "" : String(v)]),
    );
    fields.logging = { ...(raw.logging.driver ? { driver: raw.logging.driver } : {}), options };
  }
  if (raw.secrets !== undefined) fields.secrets = grants(context, at("secrets"), raw.secrets);
  if (raw.configs !== undefined) fields.configs = grants(context, at("configs"), raw.configs);
  if (raw.scale !== undefined)
    fields.scale = { value: raw.scale, location: locationOf(context, at("scale")) };
  if (raw.dns_search !== undefined) fields.dns_search = asList(raw.dns_search);
  if (raw.dns_opt !== undefined) fields.dns_opt = raw.dns_opt;
  if (raw.group_add !== undefined) fields.group_add = raw.group_add;
  if (raw.pids_limit !== undefined) fields.pids_limit = raw.pids_limit;
  if (raw.oom_score_adj !== undefined) fields.oom_score_adj = raw.oom_score_adj;
  if (raw.oom_kill_disable !== undefined) fields.oom_kill_disable = raw.oom_kill_disable;
  if (raw.ipc !== undefined) fields.ipc = raw.ipc;
  if (raw.uts !== undefined) fields.uts = raw.uts;
  if (raw.userns_mode !== undefined) fields.userns_mode = raw.userns_mode;
  if (raw.runtime !== undefined) fields.runtime = raw.runtime;
  if (raw.cgroup_parent !== undefined) fields.cgroup_parent = raw.cgroup_parent;
  if (raw.cpu_shares !== undefined) fields.cpu_shares = raw.cpu_shares;
  if (raw.cpuset !== undefined) fields.cpuset = raw.cpuset;
  if (raw.mem_swappiness !== undefined) {
    if (raw.mem_swappiness < 0 || raw.mem_swappiness > 100) {
      failAt(context, at("mem_swappiness"), "mem_swappiness is from 0 to 100", { value: raw.mem_swappiness });
    }
    fields.mem_swappiness = raw.mem_swappiness;
  }
}
