// Compose's rules for several -f files, applied to service layers in file order:
// mappings merge key by key; command, entrypoint and healthcheck.test are replaced; ports merge by
// {host IP, published, target, protocol} and volumes/tmpfs by target (a later entry replaces the
// earlier one in place); other sequences append without duplicates; scalars are replaced;
// extension keys (`x-berth`) are replaced whole. `!reset` clears a field, `!override` replaces it.
import type { VolumeMount } from "../../model/compose.js";
import type { FieldName, ServiceFields, ServiceLayer } from "./layer.js";
import { portKey } from "./ports.js";

type Rule<K extends FieldName> = (base: ServiceFields[K], next: ServiceFields[K]) => ServiceFields[K];
type Rules = { [K in FieldName]: Rule<K> };

const replace = <T>(_base: T, next: T): T => next;

/** Appends `next` to `base`; an entry whose key is already there replaces it in place. */
function mergeBy<T>(key: (item: T) => string) {
  return (base: T[], next: T[]): T[] => {
    const out = [...base];
    const index = new Map(out.map((item, i) => [key(item), i] as const));
    for (const item of next) {
      const at = index.get(key(item));
      if (at === undefined) {
        index.set(key(item), out.length);
        out.push(item);
      } else {
        out[at] = item;
      }
    }
    return out;
  };
}

const union = <T>(base: T[], next: T[]): T[] => [...new Set([...base, ...next])];

/** Shallow merge that ignores undefined values in `next`. */
function assign<T extends object>(base: T, next: T): T {
  const out = { ...base };
  for (const [key, value] of Object.entries(next)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

const byTarget = mergeBy((mount: VolumeMount) => mount.target);

const RULES: Rules = {
  image: replace,
  build: (base, next) => {
    const out = { ...assign(base, next), args: { ...base.args, ...next.args } };
    if (base.labels || next.labels) out.labels = { ...base.labels, ...next.labels };
    return out;
  },
  command: replace,
  entrypoint: replace,
  environment: (base, next) => ({ ...base, ...next }),
  env_file: mergeBy((ref) => ref.path),
  ports: mergeBy(portKey),
  expose: union,
  healthcheck: assign,
  depends_on: (base, next) => {
    const out = { ...base };
    for (const [name, dependency] of Object.entries(next))
      out[name] = out[name] ? assign(out[name], dependency) : dependency;
    return out;
  },
  mem_limit: replace,
  mem_reservation: replace,
  memswap_limit: replace,
  cpus: replace,
  deploy: assign,
  stop_signal: replace,
  stop_grace_period: replace,
  restart: replace,
  volumes: byTarget,
  networks: (base, next) => {
    const out = { ...base };
    for (const [name, network] of Object.entries(next)) {
      const before = out[name];
      out[name] = before ? { ...network, aliases: union(before.aliases, network.aliases) } : network;
    }
    return out;
  },
  labels: (base, next) => ({ ...base, ...next }),
  working_dir: replace,
  user: replace,
  tmpfs: byTarget,
  profiles: union,
  privileged: replace,
  network_mode: replace,
  pid: replace,
  dns: union,
  dns_search: union,
  dns_opt: union,
  container_name: replace,
  hostname: replace,
  domainname: replace,
  init: replace,
  cap_add: union,
  cap_drop: union,
  ulimits: (base, next) => ({ ...base, ...next }),
  sysctls: (base, next) => ({ ...base, ...next }),
  shm_size: replace,
  extra_hosts: union,
  read_only: replace,
  security_opt: union,
  devices: mergeBy((device) => device.target),
  stdin_open: replace,
  tty: replace,
  platform: replace,
  pull_policy: replace,
  // Options merge while the driver stays the same; a new driver starts from its own options.
  logging: (base, next) =>
    next.driver !== undefined && next.driver !== base.driver
      ? next
      : { ...assign(base, next), options: { ...base.options, ...next.options } },
  secrets: mergeBy((grant) => grant.source),
  configs: mergeBy((grant) => grant.source),
  scale: replace,
  group_add: union,
  pids_limit: replace,
  oom_score_adj: replace,
  oom_kill_disable: replace,
  ipc: replace,
  uts: replace,
  userns_mode: replace,
  runtime: replace,
  cgroup_parent: replace,
  cpu_shares: replace,
  cpuset: replace,
  mem_swappiness: replace,
  "x-berth": replace,
};

/** Whether a service key is one berth models (and so can carry `!reset` / `!override`). */
export function isFieldName(key: string): key is FieldName {
  return Object.hasOwn(RULES, key);
}

function mergeField<K extends FieldName>(
  key: K,
  base: ServiceFields[K],
  next: ServiceFields[K],
): ServiceFields[K] {
  return (RULES[key] as Rule<K>)(base, next);
}

/** Merges `next` (a later file) onto `base`; returns a new layer, inputs are not changed. */
export function mergeLayers(base: ServiceLayer, next: ServiceLayer): ServiceLayer {
  const fields: Partial<ServiceFields> = { ...base.fields };
  const locations = { ...base.locations };
  for (const key of next.reset) {
    delete fields[key];
    delete locations[key];
  }
  for (const key of Object.keys(next.fields) as FieldName[]) {
    const value = next.fields[key];
    if (value === undefined || next.reset.has(key)) continue;
    const before = fields[key];
    (fields as Record<FieldName, unknown>)[key] =
      before === undefined || next.override.has(key)
        ? value
        : mergeField(key, before as never, value as never);
    const where = next.locations[key];
    if (where) locations[key] = where;
  }
  return {
    name: base.name,
    location: base.location,
    fields,
    locations,
    reset: new Set(),
    override: new Set(),
  };
}
