// The reference stack's documented reuse resets against the real servers (PostgreSQL and Redis
// from the reference images, which CI builds for reference-stack.test.ts; here they are only
// checked, or built if missing): data written before the release is gone once the environment is
// handed over again, and the reset database is usable by the application's user.
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgQuery } from "../../examples/reference-stack/services/lib/pg.mjs";
import { redisCommands } from "../../examples/reference-stack/services/lib/redis.mjs";
import { ensureReferenceStackImages } from "../../src/fixtures/reference-stack.js";
import { down } from "../../src/stack/down.js";
import type { StartedEnvironment } from "../../src/stack/environment.js";
import { up } from "../../src/stack/up.js";
import { sessionResources } from "./stack-fixtures.js";
import { engine } from "./support.js";

const STACK_DIR = resolve(import.meta.dirname, "../../examples/reference-stack");
const FILES = ["compose.yml", "compose.test.yml", "compose.reuse.yml"].map((f) => join(STACK_DIR, f));
const PG = { user: "app", password: "app", database: "app", timeoutMs: 30_000 };
const sessions = new Set<string>();
const savedReuse = process.env.BERTH_REUSE;

beforeAll(async () => {
  process.env.BERTH_REUSE = "force";
  await ensureReferenceStackImages(engine);
}, 20 * 60_000);

afterAll(async () => {
  const results = await Promise.allSettled(
    [...sessions].map((session) => down({ engine, session, volumes: true })),
  );
  if (savedReuse === undefined) delete process.env.BERTH_REUSE;
  else process.env.BERTH_REUSE = savedReuse;
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}, 180_000);

async function reusable(): Promise<StartedEnvironment> {
  const env = await up({
    files: FILES,
    cwd: STACK_DIR,
    services: ["postgres", "redis"],
    reuse: true,
    watch: false,
    timeoutMs: 600_000,
    serviceTimeoutMs: 480_000,
  });
  sessions.add(env.session);
  return env;
}

function at(env: StartedEnvironment, service: string, port: number) {
  const { host, port: hostPort } = env.endpoint(service, port);
  return { host, port: hostPort };
}

describe("the reference stack's reuse resets", () => {
  it("empty PostgreSQL's app database and flush Redis before a reused hand-over", {
    timeout: 900_000,
  }, async () => {
    const first = await reusable();
    expect(first.reused).toBe(false);
    await pgQuery({
      ...at(first, "postgres", 5432),
      ...PG,
      sql: "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('before the release')",
    });
    await redisCommands({
      ...at(first, "redis", 6379),
      timeoutMs: 30_000,
      commands: [["SET", "left", "over"]],
    });
    await first.down();

    const second = await reusable();
    expect(second.reused).toBe(true);
    expect(second.session).toBe(first.session);
    const rows = await pgQuery({
      ...at(second, "postgres", 5432),
      ...PG,
      sql: "SELECT to_regclass('public.notes') IS NULL AS gone, current_user AS who, current_database() AS db",
    });
    expect(rows).toEqual([["t", "app", "app"]]);
    // The recreated database is the app user's: it can create in it as before.
    await pgQuery({ ...at(second, "postgres", 5432), ...PG, sql: "CREATE TABLE again (id int)" });
    const replies = await redisCommands({
      ...at(second, "redis", 6379),
      timeoutMs: 30_000,
      commands: [["GET", "left"], ["DBSIZE"]],
    });
    expect(replies).toEqual([null, 0]);
    await second.down({ remove: true, volumes: true });
    expect(await sessionResources(second.session)).toEqual([]);
  });
});
