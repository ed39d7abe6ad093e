// Which keys berth understands, as a tree. Everything else is removed before validation and
// reported once as unsupported, so nothing is ignored silently. `x-*` extension keys are allowed
// wherever Compose allows them; `x-berth` is berth's own and checked like any other key.
import type { PathSegment, YamlPath } from "./path.js";

/** `true`: anything below is validated by the schema. `*`: any key. `[]`: each list item. */
type KeySpec = true | { readonly [key: string]: KeySpec };

const LABELS = true;
const WAIT_STEP: KeySpec = {
  port: true,
  log: { pattern: true, times: true },
  http: { port: true, path: true, status: true },
  command: true,
  healthcheck: true,
};

const SERVICE: KeySpec = {
  image: true,
  build: { context: true, dockerfile: true, args: true, target: true },
  command: true,
  entrypoint: true,
  environment: true,
  env_file: { "[]": { path: true, required: true, format: true } },
  ports: { "[]": { target: true, published: true, host_ip: true, protocol: true, mode: true } },
  expose: true,
  healthcheck: {
    test: true,
    interval: true,
    timeout: true,
    retries: true,
    start_period: true,
    start_interval: true,
    disable: true,
  },
  // `restart` only matters to `docker compose restart`, which berth has no equivalent of.
  depends_on: { "*": { condition: true, required: true, restart: true } },
  mem_limit: true,
  mem_reservation: true,
  memswap_limit: true,
  cpus: true,
  deploy: { resources: { limits: { memory: true, cpus: true }, reservations: { memory: true } } },
  stop_signal: true,
  stop_grace_period: true,
  restart: true,
  volumes: {
    "[]": { type: true, source: true, target: true, read_only: true, tmpfs: { size: true } },
  },
  networks: { "*": { aliases: true } },
  labels: LABELS,
  working_dir: true,
  user: true,
  tmpfs: true,
  profiles: true,
  privileged: true,
  pull_policy: true,
  network_mode: true,
  pid: true,
  dns: true,
  "x-berth": { wait: { "[]": WAIT_STEP, ...WAIT_STEP }, timeout: true, allow: true },
};

const RESOURCE: KeySpec = { name: true, external: true, driver: true, labels: LABELS };

export const COMPOSE_KEYS: KeySpec = {
  // `version` is obsolete in the Compose specification and ignored, as Compose does.
  version: true,
  name: true,
  services: { "*": SERVICE },
  networks: { "*": RESOURCE },
  volumes: { "*": RESOURCE },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Removes keys berth does not support from `value` (in place) and returns their paths. Extension
 * keys (`x-*`) are kept where they are not named in the spec: they belong to other tools.
 */
export function removeUnsupported(
  value: unknown,
  spec: KeySpec = COMPOSE_KEYS,
  path: PathSegment[] = [],
): YamlPath[] {
  if (spec === true) return [];
  const found: YamlPath[] = [];
  if (Array.isArray(value)) {
    const itemSpec = spec["[]"];
    if (!itemSpec) return found;
    for (const [index, item] of value.entries())
      found.push(...removeUnsupported(item, itemSpec, [...path, index]));
    return found;
  }
  if (!isRecord(value)) return found;
  for (const key of Object.keys(value)) {
    const keySpec = spec[key] ?? spec["*"];
    if (keySpec === undefined) {
      if (key.startsWith("x-")) continue;
      found.push([...path, key]);
      delete value[key];
    } else {
      found.push(...removeUnsupported(value[key], keySpec, [...path, key]));
    }
  }
  return found;
}
