// Memory usage of running containers, computed as `docker stats` does: usage minus the page
// cache the kernel can drop at once (cgroup v1 `total_inactive_file`, v2 `inactive_file`),
// against the container's limit. Containers are found by berth's labels.
import type { Engine } from "../engine/engine.js";
import { ConflictError, NotFoundError } from "../engine/errors.js";
import { containerName } from "../model/container-name.js";
import { LABELS } from "../model/labels.js";
import { formatSize } from "./size.js";

export interface ContainerRef {
  id: string;
  name: string;
  project?: string;
  service?: string;
}

/** The part of the Engine API's stats answer berth reads. */
interface MemoryStatsSample {
  memory_stats?: {
    usage?: number;
    max_usage?: number;
    limit?: number;
    stats?: Record<string, number>;
  };
}

interface MemoryFigures {
  /** Usage minus reclaimable page cache, bytes. */
  usageBytes: number;
  /** The container's limit; undefined when it has none (the daemon then reports host memory). */
  limitBytes: number | undefined;
  /** usage / limit * 100; undefined without a limit. */
  percent: number | undefined;
  /**
   * Highest usage since the container started, minus the current inactive page cache; only
   * where the daemon reports a high-water mark (cgroup v1 `max_usage`). Never below usage.
   */
  peakBytes: number | undefined;
}

export interface MemoryUsage extends ContainerRef, MemoryFigures {
  sampledAt: Date;
}

/** Figures from one stats answer. `hostMemoryBytes` tells an unlimited container from a limited one. */
export function memoryFigures(sample: MemoryStatsSample, hostMemoryBytes?: number): MemoryFigures {
  const memory = sample.memory_stats ?? {};
  const raw = memory.usage ?? 0;
  const stats = memory.stats ?? {};
  // cgroup v1 reports total_inactive_file; cgroup v2 only inactive_file.
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  const usageBytes = inactive < raw ? raw - inactive : raw;
  const limit = memory.limit;
  const limited =
    limit !== undefined && limit > 0 && (hostMemoryBytes === undefined || limit < hostMemoryBytes);
  const limitBytes = limited ? limit : undefined;
  const peakBytes =
    memory.max_usage !== undefined && memory.max_usage > 0
      ? Math.max(usageBytes, memory.max_usage - (inactive < memory.max_usage ? inactive : 0))
      : undefined;
  return {
    usageBytes,
    limitBytes,
    percent: limitBytes ? (usageBytes / limitBytes) * 100 : undefined,
    peakBytes,
  };
}

const hostMemory = new WeakMap<Engine, Promise<number | undefined>>();

function hostMemoryOf(engine: Engine): Promise<number | undefined> {
  let known = hostMemory.get(engine);
  if (!known) {
    known = engine.info().then((info) => (typeof info.MemTotal === "number" ? info.MemTotal : undefined));
    hostMemory.set(engine, known);
  }
  return known;
}

/** Running berth containers, of one project or of all projects. */
export async function projectContainers(engine: Engine, project?: string): Promise<ContainerRef[]> {
  const containers = await engine.listContainers({
    all: false,
    filters: { label: [project ? `${LABELS.project}=${project}` : LABELS.project] },
  });
  return containers
    .map((c) => ({
      id: c.Id,
      name: containerName(c),
      project: c.Labels?.[LABELS.project],
      service: c.Labels?.[LABELS.service],
    }))
    .sort((a, b) =>
      `${a.project}/${a.service ?? a.name}`.localeCompare(`${b.project}/${b.service ?? b.name}`),
    );
}

/**
 * One stats answer without CPU deltas (`one-shot`, API 1.41+): the daemon answers after one
 * collection cycle instead of two, which halves a sample's time (about 1 s instead of 2 s).
 * Memory needs no previous sample; older daemons ignore the parameter and answer as usual.
 */
function oneShotStats(engine: Engine, id: string): Promise<MemoryStatsSample> {
  return engine.containerStats(id, { oneShot: true });
}

/**
 * One sample per container, taken in parallel. A container that stopped or vanished since it
 * was listed is left out rather than failing the whole sample.
 */
export async function sampleStats(engine: Engine, containers: ContainerRef[]): Promise<MemoryUsage[]> {
  const host = await hostMemoryOf(engine);
  const samples = await Promise.all(
    containers.map(async (container) => {
      try {
        const stats = await oneShotStats(engine, container.id);
        if (!stats.memory_stats || stats.memory_stats.usage === undefined) return undefined;
        return { ...container, ...memoryFigures(stats, host), sampledAt: new Date() };
      } catch (error) {
        // Removed (404) or being removed (409) since it was listed: it has no usage to report.
        if (error instanceof NotFoundError || error instanceof ConflictError) return undefined;
        throw error;
      }
    }),
  );
  return samples.filter((s): s is MemoryUsage => s !== undefined);
}

interface UsageWarning {
  project?: string;
  service: string;
  percent: number;
  usageBytes: number;
  limitBytes: number;
  message: string;
}

/** Services at or above `thresholdPercent` of their limit. */
export function usageWarnings(usages: MemoryUsage[], thresholdPercent: number): UsageWarning[] {
  return usages
    .filter((u) => u.percent !== undefined && u.limitBytes !== undefined && u.percent >= thresholdPercent)
    .map((u) => {
      const service = u.service ?? u.name;
      return {
        project: u.project,
        service,
        percent: u.percent!,
        usageBytes: u.usageBytes,
        limitBytes: u.limitBytes!,
        message: `service \`${service}\`${u.project ? ` (project ${u.project})` : ""} uses ${u.percent!.toFixed(0)}% of its ${formatSize(u.limitBytes!)} limit (${formatSize(u.usageBytes)}), at or above ${thresholdPercent}%`,
      };
    });
}
