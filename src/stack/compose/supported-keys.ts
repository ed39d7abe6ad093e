// Which Compose keys berth honours, as a tree beside the specification's (spec-keys.ts), and the
// rule applied to every file: a key outside the specification is an error with a suggestion; a
// key of the specification that berth cannot honour is an error naming it and why, unless an
// `x-berth.ignore` list names it (then it is removed and listed in one warning).
import { type FileContext, failAt, locationOf } from "./file-context.js";
import { ANY_KEYS, checkKeys, deleteAt, type KeyFinding, type KeyTree, leaves } from "./key-tree.js";
import type { YamlPath } from "./path.js";
import { SPEC_KEYS } from "./spec-keys.js";

const WAIT_STEP: KeyTree = {
  port: true,
  log: leaves("pattern times"),
  http: leaves("port path status"),
  command: true,
  healthcheck: true,
};

/** berth's own extension key on a service. `reuse`/`reset` belong to warm environments. */
const BERTH_SERVICE: KeyTree = {
  wait: { "[]": WAIT_STEP, ...WAIT_STEP },
  ...leaves("timeout allow ignore reuse reset"),
};

/** berth's own top-level extension key (limit profiles, warm environments, ignore). */
const BERTH_TOP: KeyTree = leaves("limits profile reuse reset ignore");

const FILE_MOUNT: KeyTree = leaves("source target uid gid mode");

const SERVICE: KeyTree = {
  ...leaves(
    "image command entrypoint environment expose mem_limit mem_reservation memswap_limit cpus",
    "stop_signal stop_grace_period restart labels working_dir user tmpfs profiles privileged",
    "network_mode pid dns dns_search dns_opt container_name hostname domainname init cap_add",
    "cap_drop sysctls shm_size extra_hosts read_only security_opt stdin_open tty platform",
    "pull_policy group_add pids_limit oom_score_adj ipc uts userns_mode runtime cgroup_parent",
    "cpu_shares cpuset mem_swappiness oom_kill_disable scale",
  ),
  // What the Engine's build API takes; cache hints change how fast an image is built, not what runs.
  build: {
    ...leaves("context dockerfile dockerfile_inline args target cache_from cache_to network shm_size"),
    ...leaves("no_cache pull platforms tags"),
    labels: ANY_KEYS,
    extra_hosts: ANY_KEYS,
    ulimits: { "*": leaves("soft hard") },
  },
  env_file: { "[]": leaves("path required format") },
  // `name` and `app_protocol` only describe a port.
  ports: { "[]": leaves("target published host_ip protocol mode name app_protocol") },
  healthcheck: true,
  depends_on: { "*": leaves("condition required restart") },
  deploy: {
    replicas: true,
    resources: { limits: leaves("memory cpus pids"), reservations: leaves("memory") },
    // Swarm's rollout and placement settings mean nothing on one daemon; Compose skips them too.
    ...leaves("update_config rollback_config placement endpoint_mode"),
  },
  volumes: {
    "[]": {
      // `consistency` is a Docker Desktop for Mac hint; berth's binds always create the host path.
      ...leaves("type source target read_only consistency"),
      tmpfs: leaves("size"),
      bind: leaves("create_host_path"),
      volume: leaves("nocopy"),
    },
  },
  networks: { "*": leaves("aliases ipv4_address") },
  ulimits: { "*": leaves("soft hard") },
  extra_hosts: ANY_KEYS,
  sysctls: ANY_KEYS,
  devices: { "[]": leaves("source target permissions") },
  logging: { driver: true, options: ANY_KEYS },
  secrets: { "[]": FILE_MOUNT },
  configs: { "[]": FILE_MOUNT },
  extends: leaves("file service"),
  "x-berth": BERTH_SERVICE,
};

const NETWORK: KeyTree = {
  ...leaves("name external driver labels internal attachable driver_opts"),
  ipam: { driver: true, config: { "[]": leaves("subnet gateway ip_range") } },
};

const COMPOSE_KEYS: KeyTree = {
  // `version` is obsolete in the Compose specification and ignored, as Compose does.
  ...leaves("version name"),
  include: { "[]": leaves("path project_directory env_file") },
  services: { "*": SERVICE },
  networks: { "*": NETWORK },
  volumes: { "*": leaves("name external driver driver_opts labels") },
  secrets: { "*": leaves("name file environment") },
  configs: { "*": leaves("name file environment content") },
  "x-berth": BERTH_TOP,
};

/** The specification's keys plus berth's own extension. */
const KNOWN_KEYS: KeyTree = {
  ...(SPEC_KEYS as Record<string, KeyTree>),
  "x-berth": BERTH_TOP,
  services: {
    "*": {
      ...((SPEC_KEYS as { services: { "*": Record<string, KeyTree> } }).services["*"] ?? {}),
      "x-berth": BERTH_SERVICE,
    },
  },
};

/** Why berth cannot honour a key, by the key's dotted path below `services.NAME` or the top. */
const REASONS: Record<string, string> = {
  links: "legacy links are not needed: every service reaches the others by name on the project network",
  external_links: "it links to containers outside the project, which berth never touches",
  volumes_from: "it shares another container's volumes; declare the volume on both services instead",
  develop: "`compose watch` is not a berth feature",
  gpus: "berth does not request GPUs",
  models: "AI models are a Docker Desktop feature",
  provider: "provider services are a Docker Desktop feature",
  post_start: "lifecycle hooks are not implemented",
  pre_stop: "lifecycle hooks are not implemented",
  use_api_socket: "berth does not hand the Docker socket to containers",
  mac_address: "a fixed MAC address clashes between parallel runs",
  "deploy.restart_policy": "use the service's `restart` key",
  "deploy.mode": "Swarm's global mode means nothing on one daemon",
  "deploy.labels": "Swarm service labels; use the service's `labels` key",
  "deploy.resources.reservations.devices": "berth does not request GPUs or other devices",
  // berth builds through the Engine API's /build endpoint, without a BuildKit session.
  "build.secrets":
    "build secrets need a BuildKit session, which the Engine's build API that berth uses does not offer",
  "build.ssh":
    "SSH agent forwarding needs a BuildKit session, which the Engine's build API that berth uses does not offer",
  "build.additional_contexts":
    "named build contexts are a BuildKit feature; the Engine's build API takes one context",
  "build.entitlements": "entitlements are BuildKit's; the Engine's build API has none to grant",
  "build.privileged": "privileged RUN steps are a BuildKit entitlement; the Engine's build API has none",
  "build.isolation": "isolation modes are for Windows containers",
  "build.provenance": "attestations are made by BuildKit (buildx), not the Engine's build API",
  "build.sbom": "attestations are made by BuildKit (buildx), not the Engine's build API",
};

function dotted(path: YamlPath): string {
  return path.filter((s): s is string => typeof s === "string").join(".");
}

/** The path below the service (`deploy.placement`) or below the top when not in a service. */
function relativePath(path: YamlPath): { service?: string; rest: string } {
  if (path[0] === "services" && typeof path[1] === "string" && path.length > 2) {
    return { service: path[1], rest: dotted(path.slice(2)) };
  }
  return { rest: dotted(path) };
}

/** What `x-berth.ignore` lists ask for, across every file of the project. */
export interface IgnoreRules {
  /** Top-level entries: a key name, or a dotted path from the top of the file. */
  top: Set<string>;
  /** Service entries: a key name, or a dotted path from the service. */
  services: Map<string, Set<string>>;
}

export function emptyIgnoreRules(): IgnoreRules {
  return { top: new Set(), services: new Map() };
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
}

/** Adds one file's `x-berth.ignore` lists (top level and per service) to `rules`. */
export function collectIgnoreRules(context: FileContext, value: unknown, rules: IgnoreRules): void {
  const read = (owner: unknown, path: YamlPath): string[] => {
    const extension = (owner as Record<string, unknown> | null)?.["x-berth"];
    const raw = (extension as Record<string, unknown> | null)?.ignore;
    if (raw === undefined || extension === null || typeof extension !== "object") return [];
    const list = stringList(raw);
    if (!list)
      failAt(context, [...path, "x-berth", "ignore"], "expected a list of key names", { value: raw });
    return list;
  };
  if (value === null || typeof value !== "object") return;
  for (const entry of read(value, [])) rules.top.add(entry);
  const services = (value as { services?: unknown }).services;
  if (services === null || typeof services !== "object") return;
  for (const [name, service] of Object.entries(services as Record<string, unknown>)) {
    const own = rules.services.get(name) ?? new Set<string>();
    for (const entry of read(service, ["services", name])) own.add(entry);
    rules.services.set(name, own);
  }
}

function isIgnored(path: YamlPath, rules: IgnoreRules): boolean {
  const key = String(path[path.length - 1]);
  const { service, rest } = relativePath(path);
  if (rules.top.has(key) || rules.top.has(dotted(path))) return true;
  const own = service === undefined ? undefined : rules.services.get(service);
  return own !== undefined && (own.has(key) || own.has(rest));
}

function reasonFor(path: YamlPath): string {
  const { rest } = relativePath(path);
  return REASONS[rest] ?? REASONS[String(path[path.length - 1])] ?? "berth does not implement it";
}

function others(findings: KeyFinding[]): string {
  if (findings.length === 0) return "";
  const names = findings.slice(0, 5).map((f) => dotted(f.path));
  return ` (and ${findings.length} more: ${names.join(", ")}${findings.length > 5 ? ", ..." : ""})`;
}

/**
 * Applies the strict-key rule to one file's interpolated value: unknown keys and unhonoured keys
 * throw a ComposeError at the first of them; unhonoured keys that `x-berth.ignore` names are
 * removed from `value` and added to `context.ignored`.
 */
export function enforceKeys(context: FileContext, value: unknown, rules: IgnoreRules): void {
  const findings = checkKeys(value, KNOWN_KEYS, COMPOSE_KEYS);
  const unknown = findings.filter((f) => f.kind === "unknown");
  const [firstUnknown, ...moreUnknown] = unknown;
  if (firstUnknown) {
    const key = String(firstUnknown.path[firstUnknown.path.length - 1]);
    const suggestion = firstUnknown.suggestion ? `; did you mean \`${firstUnknown.suggestion}\`?` : "";
    failAt(context, firstUnknown.path, `unknown key \`${key}\`${suggestion}${others(moreUnknown)}`, {
      hint: "Compose files take the keys of the Compose specification; keys starting with `x-` are free for extensions.",
    });
  }
  const refused: KeyFinding[] = [];
  for (const finding of findings) {
    if (isIgnored(finding.path, rules)) {
      context.ignored.push(locationOf(context, finding.path));
      deleteAt(value, finding.path);
    } else {
      refused.push(finding);
    }
  }
  const [first, ...more] = refused;
  if (first) {
    const key = String(first.path[first.path.length - 1]);
    const where = relativePath(first.path);
    const entry = where.rest || key;
    failAt(context, first.path, `berth cannot honour \`${key}\`: ${reasonFor(first.path)}${others(more)}`, {
      hint: `Remove it, or run without it by listing \`${entry}\` in ${where.service ? `services.${where.service}.x-berth.ignore or ` : ""}the top-level x-berth.ignore.`,
    });
  }
}
