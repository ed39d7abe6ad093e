// Leases across processes: two owners started at once never share an environment, and an owner
// SIGKILLed while holding one loses only its lease: the reaper releases it, the environment stays
// up, and the next `up` reuses it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../src/model/labels.js";
import { down } from "../../src/stack/down.js";
import { up } from "../../src/stack/up.js";
import { type OwnerProcess, startTestScript } from "./janitor-support.js";
import { composeDir, HTTP_HEALTHCHECK, httpdCommand } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const dir = composeDir();
const sessions = new Set<string>();
const owners: OwnerProcess[] = [];
let previousReuse: string | undefined;

beforeAll(() => {
  previousReuse = process.env.BERTH_REUSE;
  process.env.BERTH_REUSE = "force";
});

afterAll(async () => {
  for (const owner of owners) if (owner.child.exitCode === null) owner.child.kill("SIGKILL");
  await Promise.all(owners.map((o) => o.exited));
  // Every one is tried; the first failure is reported after.
  const results = await Promise.allSettled(
    [...sessions].map((session) => down({ engine, session, volumes: true })),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  dir.remove();
  if (previousReuse === undefined) delete process.env.BERTH_REUSE;
  else process.env.BERTH_REUSE = previousReuse;
  if (failed) throw failed.reason;
});

function file(name: string, content: string): string {
  return dir.file(
    name,
    `services:
  web:
    image: ${fixtureImage()}
    command: ${JSON.stringify(httpdCommand(content))}
    ports: ["127.0.0.1::8080"]
    healthcheck:
      test: ${JSON.stringify(HTTP_HEALTHCHECK)}
      interval: 1s
      retries: 60
`,
  );
}

function owner(path: string, mode: "release" | "hold"): OwnerProcess {
  const started = startTestScript("reuse-owner.ts", [path, mode], { BERTH_REUSE: "force" });
  owners.push(started);
  return started;
}

async function leaseKinds(session: string): Promise<string[]> {
  const containers = await engine.listContainers({
    all: true,
    filters: { label: [`${LABELS.session}=${session}`, LABELS.lease] },
  });
  return containers.map((c) => c.Labels[LABELS.lease]!);
}

describe("reuse leases across processes", () => {
  it("two owners started at once never get the same environment", { timeout: 300_000 }, async () => {
    const path = file("contention.yml", "contention");
    const idle = await up({ files: [path], reuse: true, watch: false });
    sessions.add(idle.session);
    await idle.down();

    const a = owner(path, "hold");
    const b = owner(path, "hold");
    await Promise.all([a.waitFor((e) => e.event === "waiting"), b.waitFor((e) => e.event === "waiting")]);
    a.go();
    b.go();
    const [upA, upB] = await Promise.all([
      a.waitFor((e) => e.event === "up"),
      b.waitFor((e) => e.event === "up"),
    ]);
    sessions.add(upA.session!);
    sessions.add(upB.session!);
    expect(upA.session).not.toBe(upB.session);
    // One of them took the idle environment; the loser of the race created its own.
    expect([upA, upB].filter((e) => e.reused)).toHaveLength(1);
    expect([upA.session, upB.session]).toContain(idle.session);
  });

  it("an owner SIGKILLed holding a lease: the lease is released, the environment kept and reused", {
    timeout: 300_000,
  }, async () => {
    const path = file("killed.yml", "killed");
    const holder = owner(path, "hold");
    await holder.waitFor((e) => e.event === "waiting");
    holder.go();
    const held = await holder.waitFor((e) => e.event === "up");
    sessions.add(held.session!);
    expect(await leaseKinds(held.session!)).toEqual(["take"]);
    holder.child.kill("SIGKILL");
    await holder.exited;

    // The reaper watchdog releases the lease: a `release` generation replaces the `take`.
    const deadline = Date.now() + 60_000;
    while (!(await leaseKinds(held.session!)).includes("release")) {
      if (Date.now() > deadline) throw new Error("the dead owner's lease was not released within 60 s");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const running = await engine.listContainers({
      filters: { label: [`${LABELS.session}=${held.session}`, LABELS.service] },
    });
    expect(running).toHaveLength(1);

    const next = await up({ files: [path], reuse: true, watch: false });
    expect(next.reused).toBe(true);
    expect(next.session).toBe(held.session);
    await next.down({ remove: true });
  });

  it("a lease released after a `berth down` of its environment leaves no lease container", {
    timeout: 300_000,
  }, async () => {
    // `berth up --reuse` releases its lease with no listing after the marker (the lean release).
    // A `down` of the environment that finished while the lease was held cannot see a marker
    // created after its last listing: the release itself must notice the environment is gone.
    const path = file("down-race.yml", "down-race");
    const first = await up({ files: [path], reuse: true, watch: false, leaseWatchdog: false });
    sessions.add(first.session);
    await first.down();
    // With the environment still there the release keeps its marker: idle since now.
    expect(await leaseKinds(first.session)).toEqual(expect.arrayContaining(["release"]));
    const held = await up({ files: [path], reuse: true, watch: false, leaseWatchdog: false });
    expect(held.reused).toBe(true);
    expect(held.session).toBe(first.session);
    await down({ engine, session: held.session, volumes: true });
    await held.down();
    const left = await engine.listContainers({
      all: true,
      filters: { label: [`${LABELS.session}=${held.session}`] },
    });
    expect(left.map((c) => `${c.Names?.[0]} (${c.Labels[LABELS.lease] ?? "service"})`)).toEqual([]);
  });
});
