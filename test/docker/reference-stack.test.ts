// The reference stack under berth: PostgreSQL, Redis and ClickHouse built from Debian packages,
// backend and auth built from ./services on the reference Node.js image. Two projects from the
// same files come up at once and stay isolated; every service answers a real request from the
// host through its 127.0.0.1 port; the memory limits are applied; `berth stats` and `berth
// lint` work on it; PostgreSQL shuts down cleanly on `down` and its named volume comes back
// without recovery; and nothing of either project is left.

import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clickhouseQuery } from "../../examples/reference-stack/services/lib/clickhouse.mjs";
import { pgQuery } from "../../examples/reference-stack/services/lib/pg.mjs";
import { redisCommands } from "../../examples/reference-stack/services/lib/redis.mjs";
import { ensureReferenceStackImages } from "../../src/fixtures/reference-stack.js";
import { down } from "../../src/stack/down.js";
import type { StartedEnvironment } from "../../src/stack/environment.js";
import { up } from "../../src/stack/up.js";
import { cliInProcess as cli } from "./cli-in-process.js";
import { projectResources } from "./stack-fixtures.js";
import { engine, uniqueName } from "./support.js";

const STACK_DIR = resolve(import.meta.dirname, "../../examples/reference-stack");
const FILES = [join(STACK_DIR, "compose.yml"), join(STACK_DIR, "compose.test.yml")];
const MiB = 1024 ** 2;
const EXPECTED_LIMITS: Record<string, number> = {
  backend: 2048 * MiB,
  auth: 1024 * MiB,
  postgres: 1024 * MiB,
  redis: 512 * MiB,
  clickhouse: 1024 * MiB,
};
const PG = { user: "app", password: "app", database: "app" };

const projectA = uniqueName("ref-a");
const projectB = uniqueName("ref-b");
const projectC = uniqueName("ref-cli");
const live = new Map<string, StartedEnvironment>();
const figures: Record<string, number> = {};

function hostPort(env: StartedEnvironment, service: string, port: number): { host: string; port: number } {
  const endpoint = env.endpoint(service, port);
  expect(endpoint.host).toBe("127.0.0.1");
  return { host: endpoint.host, port: endpoint.port };
}

/** Client deadlines for a busy machine (the servers answer in milliseconds when it is not). */
const SLOW = { timeoutMs: 30_000 };

/**
 * GET `/health` until it answers 200 (a dependency check may miss its deadline once on a busy
 * machine); the last answer either way.
 */
async function health(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  let last = { status: 0, body: {} as Record<string, unknown> };
  for (let attempt = 0; attempt < 10; attempt++) {
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    last = { status: response.status, body: (await response.json()) as Record<string, unknown> };
    if (last.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return last;
}

/** The live environment of `project`; a clear failure when an earlier step did not bring it up. */
function envOf(project: string): StartedEnvironment {
  const env = live.get(project);
  if (!env) throw new Error(`project ${project} is not up: an earlier test of this file failed`);
  return env;
}

async function bringUp(project: string): Promise<StartedEnvironment> {
  // Generous timeouts: two of these stacks at once beside other test files on a 2-core machine.
  const env = await up({
    files: FILES,
    cwd: STACK_DIR,
    project,
    timeoutMs: 600_000,
    serviceTimeoutMs: 480_000,
  });
  live.set(project, env);
  return env;
}

async function takeDown(env: StartedEnvironment, volumes: boolean) {
  const stopped = await env.down({ volumes });
  live.delete(env.project);
  return stopped.report;
}

beforeAll(async () => {
  // Builds only what is missing or changed (recipe hash labels); from scratch a few minutes.
  const result = await ensureReferenceStackImages(engine);
  for (const image of result.images) {
    process.stdout.write(
      `reference image ${image.ref}: ${image.built ? `built in ${(image.durationMs / 1000).toFixed(1)}s` : "up to date"}\n`,
    );
  }
}, 20 * 60_000);

afterAll(async () => {
  // Whatever a failed test left: both projects, named volumes included.
  for (const env of live.values()) await env.down({ volumes: true }).catch(() => undefined);
  for (const project of [projectA, projectB, projectC])
    await down({ project, volumes: true }).catch(() => undefined);
  process.stdout.write(`reference stack figures (s): ${JSON.stringify(figures)}\n`);
}, 180_000);

describe("the reference stack", () => {
  it("passes berth lint, alone and with its test overrides", async () => {
    for (const files of [["compose.yml"], ["compose.yml", "compose.test.yml"]]) {
      const { code, stdout } = await cli("lint", ...files.flatMap((f) => ["-f", join(STACK_DIR, f)]));
      expect(code, stdout).toBe(0);
      expect(stdout).toContain("no findings");
    }
  });

  it("comes up twice at once under two project names, every service healthy", {
    timeout: 900_000,
  }, async () => {
    const started = performance.now();
    const [a, b] = await Promise.all([bringUp(projectA), bringUp(projectB)]);
    figures.twoUpsAtOnce = (performance.now() - started) / 1000;
    figures.upA = a.durationMs / 1000;
    figures.upB = b.durationMs / 1000;
    for (const env of [a, b]) {
      expect(env.services.map((s) => s.name).sort()).toEqual([
        "auth",
        "backend",
        "clickhouse",
        "postgres",
        "redis",
      ]);
      expect(env.services.every((s) => s.state === "ready")).toBe(true);
    }
  });

  it("answers real requests from the host on every service, in isolation", { timeout: 120_000 }, async () => {
    const a = envOf(projectA);
    const b = envOf(projectB);
    for (const [env, mark] of [
      [a, "A"],
      [b, "B"],
    ] as const) {
      const rows = await pgQuery({
        ...hostPort(env, "postgres", 5432),
        ...PG,
        ...SLOW,
        sql: `CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);
              INSERT INTO notes (body) VALUES ('written by ${mark}');
              SELECT body, current_user, current_database() FROM notes ORDER BY id`,
      });
      expect(rows).toEqual([[`written by ${mark}`, "app", "app"]]);

      const replies = await redisCommands({
        ...hostPort(env, "redis", 6379),
        ...SLOW,
        commands: [
          ["SET", "owner", mark],
          ["GET", "owner"],
        ],
      });
      expect(replies).toEqual(["OK", mark]);

      const clickhouse = { ...hostPort(env, "clickhouse", 8123), ...SLOW };
      await clickhouseQuery({ ...clickhouse, query: "CREATE TABLE events (owner String) ENGINE = Memory" });
      await clickhouseQuery({ ...clickhouse, query: `INSERT INTO events VALUES ('${mark}')` });
      expect(
        await clickhouseQuery({ ...clickhouse, query: "SELECT owner, count() FROM events GROUP BY owner" }),
      ).toBe(`${mark}\t1\n`);

      const backend = await health(env.url("backend", 8080, "/health"));
      expect(backend.status, JSON.stringify(backend.body)).toBe(200);
      expect(Object.keys(backend.body.checks as object).sort()).toEqual(["clickhouse", "postgres", "redis"]);
      const auth = await health(env.url("auth", 8080, "/health"));
      expect(auth.status, JSON.stringify(auth.body)).toBe(200);
      expect(Object.keys(auth.body.checks as object).sort()).toEqual(["postgres", "redis"]);
    }
    // Each project reads back only its own writes, through its own ports.
    expect(a.endpoints.map((e) => e.port).filter((p) => b.endpoints.some((e) => e.port === p))).toEqual([]);
    const [owner] = await redisCommands({
      ...hostPort(a, "redis", 6379),
      ...SLOW,
      commands: [["GET", "owner"]],
    });
    expect(owner).toBe("A");
    const networksOf = async (env: StartedEnvironment) =>
      Object.keys(
        (await engine.inspectContainer(env.service("postgres").containerId)).NetworkSettings.Networks,
      );
    const [netA, netB] = await Promise.all([networksOf(a), networksOf(b)]);
    expect(netA.filter((n) => netB.includes(n))).toEqual([]);
  });

  it("runs every service under its memory limit (swap not doubled), published on 127.0.0.1 only", async () => {
    for (const env of [envOf(projectA), envOf(projectB)]) {
      for (const service of env.services) {
        const info = await engine.inspectContainer(service.containerId);
        expect(info.HostConfig.Memory, service.name).toBe(EXPECTED_LIMITS[service.name]);
        expect(info.HostConfig.MemorySwap, service.name).toBe(EXPECTED_LIMITS[service.name]);
        const bindings = Object.values(info.NetworkSettings.Ports ?? {}).flatMap((b) => b ?? []);
        expect(bindings.length, service.name).toBeGreaterThan(0);
        expect(new Set(bindings.map((b) => b.HostIp)), service.name).toEqual(new Set(["127.0.0.1"]));
      }
    }
  });

  it("shows each service's usage against its limit in berth stats", async () => {
    const { code, stdout, stderr } = await cli("stats", "-p", projectA, "--json");
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as {
      services: { service: string; usageBytes: number; limitBytes: number }[];
    };
    expect(report.services.map((s) => s.service).sort()).toEqual(Object.keys(EXPECTED_LIMITS).sort());
    for (const s of report.services) {
      expect(s.limitBytes, s.service).toBe(EXPECTED_LIMITS[s.service]);
      expect(s.usageBytes, s.service).toBeGreaterThan(0);
      expect(s.usageBytes, s.service).toBeLessThan(s.limitBytes);
    }
  });

  it("takes one project down completely while the other keeps running", { timeout: 180_000 }, async () => {
    const report = await takeDown(envOf(projectB), true);
    figures.downB = report.durationMs / 1000;
    expect(await projectResources(projectB)).toEqual([]);
    const a = envOf(projectA);
    const [pong] = await redisCommands({ ...hostPort(a, "redis", 6379), ...SLOW, commands: [["PING"]] });
    expect(pong).toBe("PONG");
  });

  it("stops PostgreSQL cleanly and brings its named volume back without recovery", {
    timeout: 900_000,
  }, async () => {
    const a = envOf(projectA);
    const postgres = a.service("postgres").containerId;
    // The container is removed by down: follow its log to read the shutdown as it happens.
    const log = await engine.followLogs(postgres, { since: Math.floor(Date.now() / 1000) });
    const lines: string[] = [];
    log.on("data", (chunk: Buffer) => lines.push(chunk.toString("utf8")));
    const ended = new Promise((resolve) => log.on("end", resolve).on("close", resolve));

    const report = await takeDown(a, false);
    figures.downA = report.durationMs / 1000;
    await ended;
    const shutdown = lines.join("");
    expect(shutdown).toContain("received fast shutdown request");
    expect(shutdown).toContain("database system is shut down");
    expect(report.keptVolumes.some((v) => v.includes("pgdata"))).toBe(true);

    const again = await bringUp(projectA);
    figures.upAgainA = again.durationMs / 1000;
    const startup = await again.logs("postgres");
    expect(startup).toContain("database system was shut down at");
    expect(startup).not.toMatch(/not properly shut down|automatic recovery|was interrupted/);
    const rows = await pgQuery({
      ...hostPort(again, "postgres", 5432),
      ...PG,
      ...SLOW,
      sql: "SELECT body FROM notes",
    });
    expect(rows).toEqual([["written by A"]]);

    const final = await takeDown(again, true);
    figures.downAgainA = final.durationMs / 1000;
    // The volume was created by the first session of this project and adopted by the second, so
    // it carries the first one's labels and a session-scoped down may keep it: `berth down -p
    // PROJECT --volumes` (by project) removes it.
    await down({ project: projectA, volumes: true });
    expect(await projectResources(projectA)).toEqual([]);
  });

  it("comes up with the `berth up` command, answers from the host, and `berth down --volumes` leaves nothing", {
    timeout: 600_000,
  }, async () => {
    const files = FILES.flatMap((f) => ["-f", f]);
    const started = await cli("up", ...files, "-p", projectC, "--json");
    expect(started.code, started.stderr).toBe(0);
    const result = JSON.parse(started.stdout) as {
      services: { name: string; state: string; endpoints: { containerPort: number; address: string }[] }[];
    };
    expect(result.services.map((s) => [s.name, s.state]).sort()).toEqual(
      ["auth", "backend", "clickhouse", "postgres", "redis"].map((name) => [name, "ready"]),
    );
    const address = (service: string, port: number) => {
      const endpoint = result.services
        .find((s) => s.name === service)
        ?.endpoints.find((e) => e.containerPort === port);
      expect(endpoint?.address).toMatch(/^127\.0\.0\.1:\d+$/);
      return endpoint!.address;
    };
    const [pgHost, pgPort] = address("postgres", 5432).split(":");
    expect(
      await pgQuery({ host: pgHost!, port: Number(pgPort), ...PG, ...SLOW, sql: "SELECT 40 + 2" }),
    ).toEqual([["42"]]);
    const backend = await health(`http://${address("backend", 8080)}/health`);
    expect(backend.status).toBe(200);

    const ps = await cli("ps", "-p", projectC);
    expect(ps.code, ps.stderr).toBe(0);
    for (const name of ["auth", "backend", "clickhouse", "postgres", "redis"])
      expect(ps.stdout).toContain(name);

    const stopped = await cli("down", "-p", projectC, "--volumes");
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(await projectResources(projectC)).toEqual([]);
  });
});
