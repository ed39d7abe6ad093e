// `berth ls`: every berth environment on the daemon, one row each, read from labels: project,
// session, reuse key, state (leased by host/pid, idle, stale; owned or detached for environments
// that are not reusable), age, idle time and services. An idle reusable environment whose key no
// longer matches what its files and images give today is stale: nothing will reuse it again.
import type { Engine } from "../../engine/engine.js";
import { LABELS, parseOwner } from "../../model/labels.js";
import { ownerState } from "../../model/ownership.js";
import { berthVersion } from "../../model/version.js";
import { resolveProject } from "../up.js";
import { groupEnvironments } from "./candidates.js";
import { projectImageIds } from "./image-ids.js";
import { reuseKey } from "./key.js";
import type { ReuseSource } from "./up-reusable.js";

type EnvironmentState = "leased" | "idle" | "stale" | "owned" | "detached" | "orphaned";

export interface EnvironmentRow {
  project: string;
  session: string;
  /** The full reuse key; absent for environments that are not reusable. */
  key?: string;
  state: EnvironmentState;
  /** `host/pid` of the lease holder (leased) or the owner (owned). */
  owner?: string;
  createdAt: number;
  ageMs: number;
  /** Idle reusable environments: how long nobody has held the lease. */
  idleMs?: number;
  /** Idle time after which `berth gc` removes it (reusable only). */
  ttlMs?: number;
  services: string[];
}

function hostPid(owner: string | undefined): string | undefined {
  const parsed = parseOwner(owner);
  return parsed ? `${parsed.host}/${parsed.pid}` : undefined;
}

/** The key the recorded source gives today, or undefined when it cannot be computed (files gone). */
async function currentKey(engine: Engine, sourceLabel: string): Promise<string | undefined> {
  try {
    const source = JSON.parse(sourceLabel) as ReuseSource;
    if (!source.files || source.files.length === 0) return undefined;
    const { project } = await resolveProject({
      files: source.files,
      ...(source.cwd ? { cwd: source.cwd } : {}),
      ...(source.services ? { services: source.services } : {}),
      ...(source.profiles ? { profiles: source.profiles } : {}),
      ...(source.envFile ? { envFile: source.envFile } : {}),
    });
    const { ids: imageIds } = await projectImageIds(engine, project, { prepare: false });
    return reuseKey({ project, imageIds, berthVersion: berthVersion(), options: source.keyOptions });
  } catch {
    return "unresolvable";
  }
}

export async function listEnvironments(
  engine: Engine,
  options: { now?: number } = {},
): Promise<EnvironmentRow[]> {
  const now = options.now ?? Date.now();
  const containers = await engine.listContainers({
    all: true,
    filters: { label: [LABELS.project, LABELS.session] },
  });
  const keys = new Map<string, Promise<string | undefined>>();
  const rows = await Promise.all(
    groupEnvironments(containers, now).map(async (environment): Promise<EnvironmentRow> => {
      const labels = environment.labels;
      const first = [...environment.services.values()][0];
      const base = {
        project: environment.project,
        session: environment.session,
        createdAt: environment.createdAt,
        ageMs: now - environment.createdAt,
        services: [...environment.services.keys()].sort(),
      };
      const key = labels[LABELS.reuseKey];
      if (!key) {
        const owner = first?.Labels[LABELS.owner];
        const state =
          labels[LABELS.detached] === "true"
            ? "detached"
            : ownerState(owner) === "dead"
              ? "orphaned"
              : "owned";
        const who = hostPid(owner);
        return { ...base, state, ...(state === "owned" && who ? { owner: who } : {}) };
      }
      const ttl = Number(labels[LABELS.reuseTtl]);
      const reusable = { ...base, key, ...(Number.isFinite(ttl) && ttl > 0 ? { ttlMs: ttl } : {}) };
      if (environment.lease.state === "leased") {
        const who = hostPid(environment.lease.holder);
        return { ...reusable, state: "leased", ...(who ? { owner: who } : {}) };
      }
      const idleMs = now - (environment.lease.idleSince ?? environment.createdAt);
      const source = labels[LABELS.reuseSource];
      let stale = false;
      if (source) {
        if (!keys.has(source)) keys.set(source, currentKey(engine, source));
        const today = await keys.get(source);
        stale = today !== undefined && today !== key;
      }
      return { ...reusable, state: stale ? "stale" : "idle", idleMs };
    }),
  );
  return rows.sort((a, b) => a.project.localeCompare(b.project));
}
