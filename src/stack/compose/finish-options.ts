// A merged layer's container options and secret/config grants into the model: options copied to
// their model names, grants resolved against the project's top-level secrets and configs.
import { posix } from "node:path";
import type { ContainerOptions, FileGrant, ProvidedSource } from "../../model/compose.js";
import { ComposeError } from "./errors.js";
import type { GrantLayer, ServiceFields, ServiceLayer } from "./layer.js";

type Fields = Partial<ServiceFields>;

const COPIED: [keyof Fields, keyof ContainerOptions][] = [
  ["init", "init"],
  ["cap_add", "capAdd"],
  ["cap_drop", "capDrop"],
  ["ulimits", "ulimits"],
  ["sysctls", "sysctls"],
  ["shm_size", "shmSizeBytes"],
  ["extra_hosts", "extraHosts"],
  ["read_only", "readOnly"],
  ["security_opt", "securityOpt"],
  ["devices", "devices"],
  ["stdin_open", "stdinOpen"],
  ["tty", "tty"],
  ["platform", "platform"],
  ["logging", "logging"],
  ["dns_search", "dnsSearch"],
  ["dns_opt", "dnsOpt"],
  ["group_add", "groupAdd"],
  ["pids_limit", "pidsLimit"],
  ["oom_score_adj", "oomScoreAdj"],
  ["oom_kill_disable", "oomKillDisable"],
  ["ipc", "ipc"],
  ["uts", "uts"],
  ["userns_mode", "usernsMode"],
  ["runtime", "runtime"],
  ["cgroup_parent", "cgroupParent"],
  ["cpu_shares", "cpuShares"],
  ["cpuset", "cpuset"],
  ["mem_swappiness", "memSwappiness"],
  ["domainname", "domainname"],
];

export function finishOptions(layer: ServiceLayer): ContainerOptions {
  const f = layer.fields;
  const options: Record<string, unknown> = {};
  for (const [field, option] of COPIED) if (f[field] !== undefined) options[option] = f[field];
  const pids = f.deploy?.pids;
  if (pids !== undefined && options.pidsLimit === undefined) options.pidsLimit = pids;
  return options as ContainerOptions;
}

export interface ProvidedFiles {
  secrets: Record<string, ProvidedSource>;
  configs: Record<string, ProvidedSource>;
}

function targetFor(kind: "secrets" | "configs", grant: GrantLayer): string {
  if (kind === "secrets") {
    const target = grant.target ?? grant.source;
    return target.startsWith("/") ? target : posix.join("/run/secrets", target);
  }
  return grant.target ?? `/${grant.source}`;
}

/** Resolves a service's `secrets` or `configs` references; an undeclared one is refused. */
export function finishGrants(
  kind: "secrets" | "configs",
  layer: ServiceLayer,
  provided: ProvidedFiles,
): FileGrant[] {
  const definitions = provided[kind];
  return (layer.fields[kind] ?? []).map((grant) => {
    const source = definitions[grant.source];
    if (!source) {
      throw ComposeError.at(
        grant.location,
        `service ${layer.name} refers to undefined ${kind.slice(0, -1)} ${grant.source}`,
        {
          value: grant.source,
          hint: `Declare it under the top-level ${kind} key (with file: or environment:${kind === "configs" ? " or content:" : ""}).`,
        },
      );
    }
    const target = targetFor(kind, grant);
    if (!target.startsWith("/")) {
      throw ComposeError.at(grant.location, `a ${kind.slice(0, -1)} target is an absolute path`, {
        value: target,
      });
    }
    const out: FileGrant = { name: grant.source, target, source };
    if (grant.uid !== undefined) out.uid = grant.uid;
    if (grant.gid !== undefined) out.gid = grant.gid;
    if (grant.mode !== undefined) out.mode = grant.mode;
    return out;
  });
}
