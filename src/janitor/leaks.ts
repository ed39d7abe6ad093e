// Leak detection: a snapshot of what the daemon holds, and later the difference. A leak is a
// container, network or volume that exists now, did not exist at the snapshot, and (when a label
// is given) carries that label, or carries none of that key when unlabelled ones are claimed too.
import { readFileSync, writeFileSync } from "node:fs";
import type { Engine } from "../engine/engine.js";
import { defaultEngine } from "../guard/default-engine.js";
import { type LabelSelector, matchesSelector } from "../model/labels.js";
import { sleep } from "../model/sleep.js";
import { type ResourceRef, SnapshotFileError } from "./errors.js";
import { listResources } from "./inventory.js";

export interface Snapshot {
  version: 1;
  takenAt: string;
  /** The daemon the snapshot describes (DOCKER_HOST form). */
  dockerHost: string;
  resources: ResourceRef[];
}

export interface LeakOptions {
  /** The engine to read from; default one for DOCKER_HOST. */
  engine?: Engine;
  /** Only resources carrying this label count (`{ key, value }`; no value: any value). */
  label?: LabelSelector;
  /**
   * Also count new resources that lack the label's key altogether: things created by hand or by
   * a tool that forgot the labels, as opposed to resources another run labelled as its own.
   */
  includeUnlabelled?: boolean;
}

function keyOf(resource: ResourceRef): string {
  return `${resource.kind}:${resource.id}`;
}

export async function snapshot(engine: Engine = defaultEngine()): Promise<Snapshot> {
  return {
    version: 1,
    takenAt: new Date().toISOString(),
    dockerHost: engine.endpoint.url,
    resources: await listResources(engine),
  };
}

/** The pure diff: resources in `now` that are not in `before` and match the label rule. */
export function diffResources(
  before: ResourceRef[],
  now: ResourceRef[],
  options: Pick<LeakOptions, "label" | "includeUnlabelled"> = {},
): ResourceRef[] {
  const known = new Set(before.map(keyOf));
  const { label, includeUnlabelled } = options;
  return now.filter((resource) => {
    if (known.has(keyOf(resource))) return false;
    if (!label) return true;
    if (matchesSelector(resource.labels, label)) return true;
    return Boolean(includeUnlabelled) && !(label.key in resource.labels);
  });
}

export async function leaksSince(before: Snapshot, options: LeakOptions = {}): Promise<ResourceRef[]> {
  const engine = options.engine ?? defaultEngine();
  return diffResources(before.resources, await listResources(engine), options);
}

/** Polls until no leak remains or `waitMs` runs out (cleanups may be in flight); answers what remained. */
interface WaitForNoLeaksOptions extends LeakOptions {
  waitMs?: number;
  intervalMs?: number;
  /** Runs before each look (e.g. draining the run's idle pooled networks). */
  beforeCheck?: () => Promise<unknown>;
  /** New resources that are not the run's leftovers after all (e.g. another run's idle pooled networks). */
  legitimate?: (resource: ResourceRef) => boolean;
}

export async function waitForNoLeaks(
  before: Snapshot,
  options: WaitForNoLeaksOptions = {},
): Promise<ResourceRef[]> {
  const engine = options.engine ?? defaultEngine();
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    await options.beforeCheck?.();
    const leaks = (await leaksSince(before, { ...options, engine })).filter((r) => !options.legitimate?.(r));
    if (leaks.length === 0 || Date.now() >= deadline) return leaks;
    await sleep(options.intervalMs ?? 500);
  }
}

export function writeSnapshotFile(file: string, value: Snapshot): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function readSnapshotFile(file: string): Snapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SnapshotFileError(`Cannot read snapshot file ${file}: ${(error as Error).message}`, {
      resource: file,
      hint: "Write one with `berth leaks --snapshot FILE` before the run you want to check.",
      cause: error,
    });
  }
  const value = parsed as Partial<Snapshot>;
  if (value?.version !== 1 || !Array.isArray(value.resources)) {
    throw new SnapshotFileError(`${file} is not a berth snapshot (expected version 1 with resources)`, {
      resource: file,
      hint: "Write one with `berth leaks --snapshot FILE`.",
    });
  }
  return value as Snapshot;
}
