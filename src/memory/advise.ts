// The advisor: samples memory over a window and recommends a limit per service by one stated
// rule, so raising limits is a measured, repeatable step instead of hand edits after a crash.
import type { Engine } from "../engine/engine.js";
import { pause } from "../model/sleep.js";
import { formatComposeSize, formatSize, roundUpToCleanSize } from "./size.js";
import { type ContainerRef, sampleStats } from "./stats.js";

/** At its observed peak a service should use at most this share of its limit. */
const ADVICE_TARGET_FRACTION = 0.6;

export const ADVICE_RULE =
  "limit = peak / 0.6, rounded up to the next clean size (6, 8, 12, 16, 24, 32, 48, 64, 96, 128 MiB ...: " +
  "powers of two and 1.5x powers of two), never below 6 MiB; at its peak a service then uses at most " +
  "60% of its limit, below the 70% warning threshold";

interface ServiceObservation {
  project?: string;
  service: string;
  container: string;
  samples: number;
  /** Highest usage seen (and, where the daemon keeps one, its high-water mark), bytes. */
  peakBytes: number;
  lastUsageBytes: number;
  limitBytes: number | undefined;
}

type AdviceChange = "set" | "raise" | "lower" | "keep";

export interface LimitAdvice extends ServiceObservation {
  recommendedBytes: number;
  /** `set`: it has no limit; `raise`/`lower`: its limit is below / over twice the recommendation. */
  change: AdviceChange;
}

export function recommendLimit(peakBytes: number): number {
  return roundUpToCleanSize(Math.ceil(peakBytes / ADVICE_TARGET_FRACTION));
}

export function adviseLimits(observations: ServiceObservation[]): LimitAdvice[] {
  return observations.map((o) => {
    const recommendedBytes = recommendLimit(o.peakBytes);
    let change: AdviceChange = "keep";
    if (o.limitBytes === undefined) change = "set";
    else if (o.limitBytes < recommendedBytes) change = "raise";
    else if (o.limitBytes > 2 * recommendedBytes) change = "lower";
    return { ...o, recommendedBytes, change };
  });
}

interface ObserveOptions {
  durationMs: number;
  /** Time between the starts of two sampling rounds (default 1000 ms; a round takes about 1 s). */
  intervalMs?: number;
  signal?: AbortSignal;
  onRound?: (round: number, observations: ServiceObservation[]) => void;
}

/** Samples the containers for `durationMs` (at least one round) and keeps each service's peak. */
export async function observePeaks(
  engine: Engine,
  containers: ContainerRef[],
  options: ObserveOptions,
): Promise<ServiceObservation[]> {
  const interval = options.intervalMs ?? 1000;
  const deadline = Date.now() + options.durationMs;
  const byService = new Map<string, ServiceObservation>();
  let round = 0;
  do {
    const started = Date.now();
    for (const usage of await sampleStats(engine, containers)) {
      const service = usage.service ?? usage.name;
      const key = `${usage.project}/${service}`;
      const seen = Math.max(usage.usageBytes, usage.peakBytes ?? 0);
      const known = byService.get(key);
      byService.set(key, {
        project: usage.project,
        service,
        container: usage.name,
        samples: (known?.samples ?? 0) + 1,
        peakBytes: Math.max(known?.peakBytes ?? 0, seen),
        lastUsageBytes: usage.usageBytes,
        limitBytes: usage.limitBytes,
      });
    }
    round++;
    options.onRound?.(round, [...byService.values()]);
    const wait = Math.min(interval - (Date.now() - started), deadline - Date.now());
    if (wait > 0 && !options.signal?.aborted) await pause(wait, options.signal);
  } while (Date.now() < deadline && !options.signal?.aborted);
  return [...byService.values()];
}

const yamlKey = (name: string) => (/^[A-Za-z0-9_.-]+$/.test(name) ? name : JSON.stringify(name));

/**
 * A Compose override with the recommended limits. It sets `mem_limit` and
 * `deploy.resources.limits.memory` to the same value, so it merges cleanly over a file that uses
 * either, and `memswap_limit` equal to it (no swap).
 */
export function adviceOverrideYaml(
  advice: LimitAdvice[],
  meta: { project?: string; durationMs: number },
): string {
  const lines = [
    `# Memory limits recommended by \`berth stats --advise\`${meta.project ? ` for project ${meta.project}` : ""},`,
    `# measured over ${Math.round(meta.durationMs / 1000)}s.`,
    `# Rule: ${ADVICE_RULE}.`,
    "services:",
  ];
  for (const a of advice) {
    const size = formatComposeSize(a.recommendedBytes);
    const was = a.limitBytes === undefined ? "no limit" : `limit was ${formatSize(a.limitBytes)}`;
    lines.push(
      `  ${yamlKey(a.service)}:`,
      `    # peak ${formatSize(a.peakBytes)} over ${a.samples} samples; ${was} (${a.change})`,
      `    mem_limit: ${size}`,
      `    memswap_limit: ${size}`,
      "    deploy:",
      "      resources:",
      "        limits:",
      `          memory: ${size}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
