// Shared benchmark helpers: statistics, the machine/daemon description, and the closing JSON line.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Engine } from "../src/engine/engine.js";
import { sessionLabels } from "../src/model/labels.js";
import { percentile } from "../src/model/stats.js";

export function median(values: number[]): number {
  return percentile(values, 50);
}

export { percentile };

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `x / y` to three decimals: the benchmarks' ratios. */
export function ratio(x: number, y: number): number {
  return round(x / y, 3);
}

/** The value after `--NAME` in a benchmark's arguments, or `fallback`. */
export function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

/** The containers and networks a benchmark run left that carry its `berth.bench=MARKER` label. */
export async function benchLeftovers(engine: Engine, marker: string): Promise<unknown[]> {
  const label = `berth.bench=${marker}`;
  return [
    ...(await engine.listContainers({ all: true, filters: { label: [label] } })),
    ...(await engine.listNetworks({ label: [label] })),
  ];
}

export async function benchEnv(engine: Engine): Promise<Record<string, unknown>> {
  const version = await engine.version();
  const info = await engine.info();
  return {
    engine: version.Version,
    api: version.ApiVersion,
    cgroup: info.CgroupVersion,
    storage: info.Driver,
    cpus: cpus().length,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
  };
}

export interface Target {
  value: number;
  goal: string;
}

export function printJson(
  bench: string,
  env: Record<string, unknown>,
  figures: Record<string, unknown>,
  targets: Record<string, Target>,
): void {
  process.stdout.write(`${JSON.stringify({ bench, env, figures, targets })}\n`);
}

export function printTable(title: string, headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? String(round(c, 1)) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join("  ");
  process.stdout.write(`\n${title}\n${line(headers)}\n${cells.map(line).join("\n")}\n`);
}

/**
 * Adds `key=value` to BERTH_LABELS, which berth puts on every resource it creates in this
 * process: a run's marker, so its leftovers (and its own pool of networks) can be found by label.
 */
export function labelRun(key: string, value: string): void {
  process.env.BERTH_LABELS = [process.env.BERTH_LABELS, `${key}=${value}`].filter(Boolean).join(",");
}

/**
 * Labels for a benchmark's containers: its own (`berth.bench`, `berth.bench.run`, to sweep them
 * at the end) and a berth session owned by this process, so that `berth gc` reclaims what a
 * benchmark killed mid-run left behind, like any other dead owner's resources.
 */
export function benchLabels(kind: string, run: string): Record<string, string> {
  return sessionLabels({ session: `bench${run}`, extra: { "berth.bench": kind, "berth.bench.run": run } });
}

/**
 * Arguments that make a node child report its peak RSS and CPU time: pass them before the
 * script, then read the figures with `read()` once the child has exited (undefined when it wrote
 * none). CPU time is the steadier figure on a busy machine, where wall time waits for a core.
 */
export function peakRssProbe(): {
  execArgv: string[];
  env: NodeJS.ProcessEnv;
  read(): { peakRssMb: number; cpuMs: number } | undefined;
} {
  const file = join(tmpdir(), `berth-bench-rss-${process.pid}-${randomUUID().slice(0, 8)}`);
  const hook = join(dirname(fileURLToPath(import.meta.url)), "peak-rss.cjs");
  return {
    execArgv: ["--require", hook],
    env: { ...process.env, BERTH_BENCH_PEAK_RSS_FILE: file },
    read() {
      if (!existsSync(file)) return undefined;
      const lines = readFileSync(file, "utf8").trim().split("\n");
      rmSync(file, { force: true });
      const rows = lines.map((line) => line.split(" ").map(Number));
      return {
        peakRssMb: round(Math.max(...rows.map((r) => r[0]!)) / 1024, 1),
        cpuMs: round(rows.reduce((sum, r) => sum + r[1]!, 0) / 1000, 1),
      };
    },
  };
}

/** A live process's resident set size in MB, from /proc (undefined once it has gone). */
export function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : round(Number(kb) / 1024, 1);
  } catch {
    return undefined;
  }
}

/** The repository root, where bin/berth.js and dist/ live. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Compiles src into dist (tsc only: the benchmarks need no CommonJS twin). */
async function compileDist(built: string): Promise<void> {
  process.stdout.write("dist is older than src: building it first (tsc -p tsconfig.build.json)\n");
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
    { cwd: ROOT },
  ).catch((error: { stdout?: string }) => {
    // tsc still emits when another part of the tree has type errors; the CLI only needs the output.
    if (!existsSync(built)) throw error;
    process.stdout.write(`tsc reported errors (build still emitted):\n${error.stdout ?? ""}\n`);
  });
}

/** The dist build `bin/berth.js` runs, rebuilt when any source file is newer, and its CLI bundle. */
export async function ensureFreshBuild(): Promise<void> {
  const built = join(ROOT, "dist", "cli", "main.js");
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  if (!existsSync(built) || statSync(built).mtimeMs < newest(join(ROOT, "src"))) await compileDist(built);
  // bin/berth.js runs the bundle only while it is not older than dist/cli/main.js.
  const bundle = join(ROOT, "dist", "cli", "bundle", "main.js");
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= statSync(built).mtimeMs) return;
  process.stdout.write("the CLI bundle is older than dist: building it (scripts/build-cli.mjs)\n");
  await promisify(execFile)(process.execPath, [join(ROOT, "scripts", "build-cli.mjs")], { cwd: ROOT });
}

/** One Engine API call straight over the unix socket: the raw baseline, no berth code on the path. */
export function raw(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload
          ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
