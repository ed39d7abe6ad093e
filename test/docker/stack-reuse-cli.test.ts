// Reuse through the built CLI, each command its own process: `berth up --reuse --json` prints the
// key and holds no lease once it has exited (the next process gets the same environment; its
// lease generations do not pile up), answers from the model cache while the files and variables
// are unchanged (without evaluating the Compose loader), and is off on CI unless forced; an owner killed while holding a reused environment leaves it running;
// `berth down --reusable` removes idle environments and keeps leased ones, `--all` removes
// those too, each gracefully (the services' SIGTERM handlers ran) and verified (nothing left).
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { deserialize, serialize } from "node:v8";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../src/model/labels.js";
import { down } from "../../src/stack/down.js";
import type { StartedEnvironment } from "../../src/stack/environment.js";
import { up } from "../../src/stack/up.js";
import { cliInProcess } from "./cli-in-process.js";
import { type OwnerProcess, startTestScript } from "./janitor-support.js";
import { berthProcess, composeDir, HTTP_HEALTHCHECK, sessionResources } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const dir = composeDir();
const stops = join(dir.dir, "stops");
// The CLI's runtime directory (model cache, limiter baselines): this file's own.
const runtime = join(dir.dir, "run");
// This file's own label: `berth down --reusable` here never touches another file's environments.
const label = `berth.test.reuse-cli=${randomUUID().slice(0, 8)}`;
const sessions = new Set<string>();
const held: StartedEnvironment[] = [];
const owners: OwnerProcess[] = [];
const saved = { reuse: process.env.BERTH_REUSE, labels: process.env.BERTH_LABELS };
let file: string;
/** The environment the CLI test left idle. */
let cliSession: string | undefined;

beforeAll(() => {
  process.env.BERTH_REUSE = "force";
  process.env.BERTH_LABELS = [saved.labels, label].filter(Boolean).join(",");
  mkdirSync(stops);
  mkdirSync(runtime);
  // On SIGTERM each container leaves a file named after itself in the bind-mounted directory.
  file = dir.file(
    "compose.yml",
    `services:
  web:
    image: ${fixtureImage()}
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/health && trap 'touch /stops/$$HOSTNAME; exit 0' TERM; httpd -f -p 8080 -h /www & wait"]
    ports: ["127.0.0.1::8080"]
    volumes: ["${stops}:/stops"]
    healthcheck:
      test: ${JSON.stringify(HTTP_HEALTHCHECK)}
      interval: 1s
      retries: 60
`,
  );
});

afterAll(async () => {
  for (const owner of owners) if (owner.child.exitCode === null) owner.child.kill("SIGKILL");
  await Promise.all(owners.map((o) => o.exited));
  for (const env of held) await env.down({ remove: true }).catch(() => undefined);
  const results = await Promise.allSettled(
    [...sessions].map((session) => down({ engine, session, volumes: true })),
  );
  dir.remove();
  for (const [name, value] of [
    ["BERTH_REUSE", saved.reuse],
    ["BERTH_LABELS", saved.labels],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}, 180_000);

interface UpJson {
  ok: boolean;
  project: string;
  session: string;
  reuseKey?: string;
  reused?: boolean;
  warnings: string[];
}

async function cliUp(env: Record<string, string> = { BERTH_REUSE: "force" }): Promise<UpJson> {
  const result = await berthProcess(["up", "--reuse", "-f", file, "--json"], dir.dir, {
    XDG_RUNTIME_DIR: runtime,
    ...env,
  });
  expect(result.code ?? 0, result.stderr).toBe(0);
  const json = JSON.parse(result.stdout) as UpJson;
  sessions.add(json.session);
  return json;
}

async function state(session: string): Promise<string | undefined> {
  const listed = await cliInProcess("ls", "--json");
  expect(listed.code, listed.stderr).toBe(0);
  return (JSON.parse(listed.stdout) as { session: string; state: string }[]).find(
    (r) => r.session === session,
  )?.state;
}

/** The lease containers' kinds, lowest generation first. */
async function leaseKinds(session: string): Promise<string[]> {
  return (await leases(session)).map((l) => l.kind);
}

async function leases(session: string): Promise<{ kind: string; generation: number }[]> {
  const containers = await engine.listContainers({
    all: true,
    filters: { label: [`${LABELS.session}=${session}`, LABELS.lease] },
  });
  return containers
    .map((c) => ({ kind: c.Labels[LABELS.lease]!, generation: Number(c.Labels[LABELS.leaseGeneration]) }))
    .sort((a, b) => a.generation - b.generation);
}

/** The model cache's one entry in this file's runtime directory. */
function modelEntry(): string {
  const entries = readdirSync(join(runtime, "berth", "models")).filter((n) => n.endsWith(".bin"));
  expect(entries).toHaveLength(1);
  return join(runtime, "berth", "models", entries[0]!);
}

/**
 * The bundle's sources that ran code in a CPU profile of one CLI process: each sample's line in
 * dist/cli/bundle/commands/up.cjs, or in loader.cjs (the Compose loader's own file), mapped to the
 * `// path` comment esbuild writes before each module.
 */
function sourcesSampled(profileDir: string): Set<string> {
  const bundle = join(process.cwd(), "dist", "cli", "bundle");
  const marksOf = new Map<string, [number, string][]>();
  for (const file of ["commands/up.cjs", "loader.cjs"]) {
    const marks: [number, string][] = [];
    readFileSync(join(bundle, file), "utf8")
      .split("\n")
      .forEach((line, index) => {
        const m = /^\/\/ (\S+)$/.exec(line);
        if (m) marks.push([index, m[1]!]);
      });
    marksOf.set(file, marks);
  }
  const profile = readdirSync(profileDir).find((n) => n.endsWith(".cpuprofile"))!;
  const { nodes } = JSON.parse(readFileSync(join(profileDir, profile), "utf8")) as {
    nodes: { callFrame: { url: string; lineNumber: number } }[];
  };
  const sampled = new Set<string>();
  for (const { callFrame } of nodes) {
    const file = [...marksOf.keys()].find((f) => callFrame.url.endsWith(`/${f}`));
    if (!file) continue;
    const mark = marksOf
      .get(file)!
      .filter(([line]) => line <= callFrame.lineNumber)
      .pop();
    sampled.add(`${file}: ${mark?.[1] ?? "?"}`);
  }
  return sampled;
}

/** What of the Compose loader ran: anything in loader.cjs, or yaml, zod, the schema or the load. */
const loaderSources = (sampled: Set<string>) =>
  [...sampled].filter((s) =>
    /^loader\.cjs|node_modules\/(yaml|zod)\/|src\/stack\/compose\/(schema|load)\.ts/.test(s),
  );

async function running(session: string): Promise<number> {
  const containers = await engine.listContainers({
    filters: { label: [`${LABELS.session}=${session}`, LABELS.service] },
  });
  return containers.length;
}

/** Whether the service container of `env` left its SIGTERM file: it was stopped gracefully. */
function stoppedGracefully(containerId: string): boolean {
  return existsSync(join(stops, containerId.slice(0, 12)));
}

describe("reuse through the CLI", () => {
  it("berth up --reuse is off on CI unless forced, and says so", { timeout: 300_000 }, async () => {
    const off = await cliUp({ BERTH_REUSE: "1" });
    expect(off.reuseKey).toBeUndefined();
    expect(off.warnings.join("\n")).toMatch(/Reuse is off because CI is set.*BERTH_REUSE=force/);
    const removed = await cliInProcess("down", "-p", off.project);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await sessionResources(off.session)).toEqual([]);
  });

  it("berth up --reuse prints the key and holds no lease once it has exited", {
    timeout: 300_000,
  }, async () => {
    const first = await cliUp();
    expect(first.reuseKey).toMatch(/^[0-9a-f]{64}$/);
    expect(first.reused).toBe(false);
    expect(await state(first.session)).toBe("idle");
    expect(await running(first.session)).toBe(1);

    // Another process gets the very environment: nobody holds it.
    const second = await cliUp();
    expect(second).toMatchObject({ session: first.session, reuseKey: first.reuseKey, reused: true });
    expect(await state(second.session)).toBe("idle");
    // Released, not merely abandoned: the top lease generation is a release marker. The CLI's
    // release removes the generations it listed before its take, so its own take stays below.
    expect(await leaseKinds(second.session)).toEqual(["take", "release"]);
    cliSession = second.session;
  });

  it("answers from the model cache without the Compose loader; a changed variable is a miss", {
    timeout: 300_000,
  }, async () => {
    const session = cliSession;
    if (!session) throw new Error("the CLI test before this one did not leave an environment");
    // Poisoned: a warning only the cache entry holds shows that the entry was used.
    const path = modelEntry();
    const entry = deserialize(readFileSync(path)) as { resolved: { warnings: string[] } };
    entry.resolved.warnings.push("from the model cache");
    writeFileSync(path, serialize(entry));
    const profiles = join(dir.dir, "profiles");
    // `berth up --reuse --json` under --cpu-prof (which NODE_OPTIONS may not carry).
    const profiled = async (name: string, env: Record<string, string> = {}): Promise<UpJson> => {
      const args = [`--cpu-prof`, `--cpu-prof-dir=${join(profiles, name)}`, "--cpu-prof-interval=200"];
      const bin = join(process.cwd(), "bin", "berth.js");
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [...args, bin, "up", "--reuse", "-f", file, "--json"],
        {
          cwd: dir.dir,
          env: { ...process.env, CI: "true", BERTH_REUSE: "force", XDG_RUNTIME_DIR: runtime, ...env },
        },
      );
      return JSON.parse(stdout) as UpJson;
    };
    const top = (await leases(session)).at(-1)!.generation;
    const hit = await profiled("hit");
    expect(hit).toMatchObject({ session, reused: true });
    expect(hit.warnings).toContain("from the model cache");
    expect(loaderSources(sourcesSampled(join(profiles, "hit")))).toEqual([]);

    // The loader looked COMPOSE_PROFILES up (no --profile): set now, it is a miss, the files are
    // loaded again (the same project: the same environment) and the entry is written again.
    const miss = await profiled("miss", { COMPOSE_PROFILES: "other" });
    expect(miss).toMatchObject({ session, reused: true });
    expect(miss.warnings).not.toContain("from the model cache");
    expect(loaderSources(sourcesSampled(join(profiles, "miss")))).not.toEqual([]);
    expect(deserialize(readFileSync(modelEntry())).resolved.warnings).not.toContain("from the model cache");

    // Every run leaves the lease released, and two lease containers: they do not pile up.
    const after = await leases(session);
    expect(after.map((l) => l.kind)).toEqual(["take", "release"]);
    expect(after.at(-1)!.generation).toBe(top + 4);
    expect(await state(session)).toBe("idle");
  });

  it("an owner killed while holding a reused environment leaves it running and idle", {
    timeout: 300_000,
  }, async () => {
    const session = cliSession;
    if (!session) throw new Error("the CLI test before this one did not leave an environment");
    const owner = startTestScript("reuse-owner.ts", [file, "hold"], { BERTH_REUSE: "force" });
    owners.push(owner);
    await owner.waitFor((e) => e.event === "waiting");
    owner.go();
    const upEvent = await owner.waitFor((e) => e.event === "up");
    expect(upEvent).toMatchObject({ session, reused: true });
    expect(await state(session)).toBe("leased");
    owner.child.kill("SIGKILL");
    await owner.exited;
    // Its reaper watchdog releases the lease and removes nothing.
    const deadline = Date.now() + 60_000;
    while ((await leases(session)).at(-1)?.kind !== "release") {
      if (Date.now() > deadline) throw new Error("the killed owner's lease was not released within 60 s");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await running(session)).toBe(1);
    expect(await state(session)).toBe("idle");
  });

  it("berth down --reusable removes idle ones and keeps leased ones; --all removes those too", {
    timeout: 300_000,
  }, async () => {
    // One environment leased by this process (the idle one from before), one new and released.
    const before = await cliInProcess("ls", "--json");
    const leased = await up({ files: [file], reuse: true, watch: false });
    held.push(leased);
    sessions.add(leased.session);
    // Failed once in CI (a new environment instead of the idle one): say what there was to take.
    const why = `warnings: ${JSON.stringify(leased.warnings)}; berth ls before: ${before.stdout}`;
    expect(leased.reused, why).toBe(true);
    const idle = await up({ files: [file], reuse: true, watch: false });
    sessions.add(idle.session);
    expect(idle.reused).toBe(false);
    await idle.down();
    expect(await state(idle.session)).toBe("idle");

    const scope = ["--label", label];
    const first = await berthProcess(["down", "--reusable", ...scope, "--json"], dir.dir);
    expect(first.code ?? 0, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout) as {
      ok: boolean;
      removed: { session: string }[];
      kept: { session: string; reason: string }[];
    };
    expect(report.ok).toBe(true);
    expect(report.removed.map((r) => r.session)).toEqual([idle.session]);
    expect(report.kept).toEqual([expect.objectContaining({ session: leased.session, reason: "leased" })]);
    expect(await sessionResources(idle.session)).toEqual([]);
    expect(stoppedGracefully(idle.service("web").containerId)).toBe(true);
    expect(await running(leased.session)).toBe(1);
    expect(await state(leased.session)).toBe("leased");

    const all = await berthProcess(["down", "--reusable", "--all", ...scope], dir.dir);
    expect(all.code ?? 0, all.stderr).toBe(0);
    expect(all.stdout).toContain(`Removed 1 reusable environment(s): ${leased.project}`);
    expect(await sessionResources(leased.session)).toEqual([]);
    expect(stoppedGracefully(leased.service("web").containerId)).toBe(true);

    // The holder's own release afterwards finds its environment gone and leaves nothing behind.
    await leased.down();
    held.length = 0;
    expect(await sessionResources(leased.session)).toEqual([]);
  });
});
