// bench/stack: a 5-service stack with healthchecks and a dependency chain (db, cache -> api ->
// worker, web), brought up until every service is healthy and taken down again, through berth
// and through Debian's docker-compose v1 (`up -d`, then polling health until all are healthy,
// then `down`) in the same run, alternating which goes first. The file uses nothing
// docker-compose v1 lacks (no start_interval), so both read the very same file.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Engine } from "../src/engine/engine.js";
import { ensureBusyboxFixture } from "../src/fixtures/busybox.js";
import { up } from "../src/stack/up.js";
import { benchEnv, median, printJson, printTable, round } from "./support.js";

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROOT = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const CLI = join(ROOT, "bin", "berth.js");

function composeFile(image: string, marker: string): string {
  const service = (deps: string[]) => `
    image: ${image}
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/health && trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
    ports: ["127.0.0.1::8080"]
    labels:
      bench.stack: ${marker}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 10s
      retries: 60${
        deps.length === 0
          ? ""
          : `
    depends_on:${deps.map((d) => `\n      ${d}:\n        condition: service_healthy`).join("")}`
      }`;
  return `services:
  db:${service([])}
  cache:${service([])}
  api:${service(["db", "cache"])}
  worker:${service(["api"])}
  web:${service(["api"])}
networks:
  default:
    labels:
      bench.stack: ${marker}
`;
}

interface Timing {
  upMs: number;
  downMs: number;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

/** The dist build `bin/berth.js` runs, rebuilt when any source file is newer. */
async function ensureFreshBuild(): Promise<void> {
  const built = join(ROOT, "dist", "cli", "main.js");
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    );
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, "src"))) return;
  process.stdout.write("dist is older than src: building it first (tsc -p tsconfig.build.json)\n");
  await run(
    process.execPath,
    [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: ROOT,
    },
  ).catch((error: { stdout?: string }) => {
    // tsc still emits when another part of the tree has type errors; the CLI only needs the output.
    if (!existsSync(built)) throw error;
    process.stdout.write(`tsc reported errors (build still emitted):\n${error.stdout ?? ""}\n`);
  });
}

async function berthCli(file: string, project: string): Promise<Timing> {
  const env = { ...process.env, CI: "true" };
  const upMs = await timed(() => run(process.execPath, [CLI, "up", "-f", file, "-p", project], { env }));
  const downMs = await timed(() => run(process.execPath, [CLI, "down", "-p", project], { env }));
  return { upMs, downMs };
}

async function berthLibrary(file: string, project: string): Promise<Timing> {
  let env: Awaited<ReturnType<typeof up>> | undefined;
  const upMs = await timed(async () => {
    env = await up({ files: [file], project });
  });
  const downMs = await timed(() => env!.down());
  return { upMs, downMs };
}

async function allHealthy(engine: Engine, project: string): Promise<boolean> {
  const containers = await engine.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
  return containers.length === 5 && containers.every((c) => /\(healthy\)/.test(c.Status));
}

async function compose(engine: Engine, file: string, project: string): Promise<Timing> {
  const upMs = await timed(async () => {
    await run("docker-compose", ["-f", file, "-p", project, "up", "-d"]);
    while (!(await allHealthy(engine, project))) await new Promise((r) => setTimeout(r, 100));
  });
  const downMs = await timed(() => run("docker-compose", ["-f", file, "-p", project, "down"]));
  return { upMs, downMs };
}

async function leftovers(engine: Engine, marker: string): Promise<number> {
  const filters = { label: [`bench.stack=${marker}`] };
  const [containers, networks] = await Promise.all([
    engine.listContainers({ all: true, filters }),
    engine.listNetworks(filters),
  ]);
  return containers.length + networks.length;
}

export default async function main(): Promise<void> {
  const engine = new Engine();
  const image = (await ensureBusyboxFixture(engine)).ref;
  const version = (await run("docker-compose", ["version", "--short"])).stdout.trim();
  await ensureFreshBuild();
  const marker = `stack-${randomUUID().slice(0, 8)}`;
  // berth's own resources carry the marker too (BERTH_LABELS), so one check sees both sides' leftovers.
  process.env.BERTH_LABELS = [process.env.BERTH_LABELS, `bench.stack=${marker}`].filter(Boolean).join(",");
  const dir = mkdtempSync(join(tmpdir(), "berth-bench-stack-"));
  const file = join(dir, "compose.yml");
  writeFileSync(file, composeFile(image, marker));
  const results: Record<"berth" | "library" | "compose", Timing[]> = { berth: [], library: [], compose: [] };
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const sides: (keyof typeof results)[] =
        i % 2 === 0 ? ["berth", "compose", "library"] : ["compose", "berth", "library"];
      for (const side of sides) {
        const project = `bench-${side}-${marker.slice(6)}-${i}`;
        const timing =
          side === "compose"
            ? await compose(engine, file, project)
            : side === "berth"
              ? await berthCli(file, project)
              : await berthLibrary(file, project);
        results[side].push(timing);
        process.stdout.write(
          `round ${i + 1}/${ROUNDS} ${side}: up ${(timing.upMs / 1000).toFixed(2)}s, down ${(timing.downMs / 1000).toFixed(2)}s\n`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const left = await leftovers(engine, marker);
  const summary = (side: keyof typeof results) => {
    const t = results[side];
    const upMs = median(t.map((x) => x.upMs));
    const downMs = median(t.map((x) => x.downMs));
    const totalMs = median(t.map((x) => x.upMs + x.downMs));
    return { upMs: round(upMs, 0), downMs: round(downMs, 0), totalMs: round(totalMs, 0) };
  };
  const berth = summary("berth");
  const library = summary("library");
  const composeSummary = summary("compose");
  const ratio = round(berth.totalMs / composeSummary.totalMs, 3);
  printTable(
    `5-service stack, up until healthy + down, median of ${ROUNDS} rounds (ms)`,
    ["tool", "up", "down", "up+down", "vs compose"],
    [
      ["berth CLI", berth.upMs, berth.downMs, berth.totalMs, ratio.toFixed(2)],
      [
        "berth library",
        library.upMs,
        library.downMs,
        library.totalMs,
        (library.totalMs / composeSummary.totalMs).toFixed(2),
      ],
      [
        `docker-compose ${version}`,
        composeSummary.upMs,
        composeSummary.downMs,
        composeSummary.totalMs,
        "1.00",
      ],
    ],
  );
  process.stdout.write(`leftover resources after the run: ${left}\n`);
  printJson(
    "stack",
    { ...(await benchEnv(engine)), dockerCompose: version, rounds: ROUNDS, healthInterval: "1s" },
    {
      berthCli: berth,
      berthLibrary: library,
      dockerCompose: composeSummary,
      leftovers: left,
      rounds: results,
    },
    {
      berth_vs_compose: { value: ratio, goal: "<= 0.8" },
      berth_library_vs_compose: { value: round(library.totalMs / composeSummary.totalMs, 3), goal: "<= 0.8" },
    },
  );
}
