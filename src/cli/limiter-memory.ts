// What one `berth` command's adaptive limiter learned about the daemon, kept for the next one.
// A fresh limiter knows no operation's unloaded latency, so it probes each: the first create,
// start, exec, stop and remove wait for every call in flight and then run alone. A test suite's
// process pays that once; a CLI process pays it on every command (on a busy daemon a probed
// start held its sibling's start back by a whole start, 1-3 s, in every `berth up`). So the CLI
// reads the long-term latencies the last command left for the same daemon endpoint, and writes
// its own back as it exits. Only latencies travel: the limit itself starts at `initialLimit` as
// always, and a stale value is corrected by the law like any other (docs/limiter.md).
import { readdirSync, rmSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { isLatency } from "../guard/gradient.js";
import { runtimeDir } from "../proxy/listen-address.js";
import { readPrivateFile, writePrivateFile } from "./private-file.js";

type Env = Record<string, string | undefined>;

/** Older files are not trusted: the daemon may have been restarted or moved since. */
export const BASELINES_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const MAX_OPERATIONS = 64;
/** No lifecycle call is taken to be normal at more than this. */
const MAX_LATENCY_MS = 120_000;

/** The file for `endpointUrl`, or undefined when `BERTH_LIMITER_BASELINES=off`. */
export function baselinesPath(endpointUrl: string, env: Env = process.env): string | undefined {
  const set = env.BERTH_LIMITER_BASELINES?.trim();
  if (set === "off") return undefined;
  if (set && isAbsolute(set)) return set;
  const name = endpointUrl.replace(/[^A-Za-z0-9.-]+/g, "_").slice(0, 120);
  return join(runtimeDir(env), `limiter-${name}.json`);
}

/** Keeps what looks like a baseline: operation names with positive finite latencies, bounded. */
export function parseBaselines(text: string): Record<string, number> {
  const parsed = JSON.parse(text) as { baselines?: unknown };
  const out: Record<string, number> = {};
  const entries = Object.entries((parsed?.baselines ?? {}) as Record<string, unknown>);
  for (const [operation, value] of entries.slice(0, MAX_OPERATIONS)) {
    if (!/^[a-z][a-z-]*\.[a-z-]+$/.test(operation)) continue;
    if (!isLatency(value) || value > MAX_LATENCY_MS) continue;
    out[operation] = value;
  }
  return out;
}

/**
 * The remembered baselines, or none: a missing, unreadable, too old or malformed file, or one
 * another user owns or may write (it would steer this user's limiter).
 */
export function loadBaselines(path: string | undefined, now = Date.now()): Record<string, number> {
  const bytes = path ? readPrivateFile(path, { maxAgeMs: BASELINES_MAX_AGE_MS, now }) : undefined;
  try {
    return bytes ? parseBaselines(bytes.toString("utf8")) : {};
  } catch {
    return {};
  }
}

/**
 * Removes the files of other endpoints too old to be used (and temp files a killed command left):
 * every endpoint has a file, and short-lived ones (a test's ssh port, a temporary socket) would
 * otherwise pile up in the runtime directory.
 */
function pruneOld(dir: string, keep: string, now: number): void {
  for (const name of readdirSync(dir)) {
    if (!/^limiter-[A-Za-z0-9._-]+\.json(\.\d+\.tmp)?$/.test(name)) continue;
    const file = join(dir, name);
    if (file === keep) continue;
    try {
      if (now - statSync(file).mtimeMs > BASELINES_MAX_AGE_MS) rmSync(file, { force: true });
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

/** Whether `a` and `b` hold the same operations with the same latencies. */
function sameBaselines(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((operation) => a[operation] === b[operation]);
}

/**
 * Writes `baselines` atomically (a temp file renamed), then removes other endpoints' files older
 * than a day; a failure only costs the next command its probes. Nothing is written when they are
 * the `loaded` ones unchanged (a command that made no lifecycle call, `berth ps` say: ~5 ms less):
 * the file's age then stays the age of what it holds, which is what its one-day limit means.
 */
export function saveBaselines(
  path: string | undefined,
  baselines: Record<string, number>,
  now = Date.now(),
  loaded?: Readonly<Record<string, number>>,
): void {
  if (!path || Object.keys(baselines).length === 0) return;
  if (loaded && sameBaselines(baselines, loaded)) return;
  try {
    writePrivateFile(path, `${JSON.stringify({ baselines })}\n`);
    pruneOld(dirname(path), path, now);
  } catch {
    // Best effort: nothing depends on it but the next command's speed.
  }
}
