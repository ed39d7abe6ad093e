import { describe, expect, it } from "vitest";
import { type GcRules, gcVerdict, type SessionFacts } from "../../src/janitor/gc.js";
import { leaseState } from "../../src/janitor/lease.js";
import type { ComposeProject } from "../../src/model/compose.js";
import { currentOwner, formatOwner, LABELS } from "../../src/model/labels.js";
import { environmentsOfKey, groupEnvironments, idleInOrder } from "../../src/stack/reuse/candidates.js";
import { majorVersion, reuseKey } from "../../src/stack/reuse/key.js";
import { reuseDecision } from "../../src/stack/reuse/policy.js";
import { type ListedContainer, safetyProblems } from "../../src/stack/reuse/safety.js";
import { loadTexts } from "./compose-support.js";

const FILE = `services:
  db:
    image: postgres:15
    ports: ["127.0.0.1::5432"]
    healthcheck: { test: ["CMD", "true"] }
    x-berth:
      reset:
        - psql -c 'select 1'
        - ["redis-cli", "FLUSHALL"]
  migrate:
    image: tool:1
  api:
    image: api:1
    depends_on:
      migrate: { condition: service_completed_successfully }
`;
const IDS = { db: "sha256:aa", migrate: "sha256:bb", api: "sha256:cc" };
const DEAD = `${currentOwner().host}/999999999/1`;
const alive = formatOwner(currentOwner());

async function project(text = FILE): Promise<ComposeProject> {
  return (await loadTexts([text])).project;
}

describe("reuse key", () => {
  it("is stable for the same model and images, and changes with the model, an image id or berth's major", async () => {
    const base = reuseKey({ project: await project(), imageIds: IDS, berthVersion: "1.2.3" });
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(reuseKey({ project: await project(), imageIds: IDS, berthVersion: "1.9.0" })).toBe(base);
    expect(reuseKey({ project: await project(), imageIds: IDS, berthVersion: "2.0.0" })).not.toBe(base);
    expect(
      reuseKey({ project: await project(), imageIds: { ...IDS, api: "sha256:dd" }, berthVersion: "1.2.3" }),
    ).not.toBe(base);
    const changed = await project(FILE.replace("api:1", "api:2"));
    expect(reuseKey({ project: changed, imageIds: IDS, berthVersion: "1.2.3" })).not.toBe(base);
    expect(
      reuseKey({
        project: await project(),
        imageIds: IDS,
        berthVersion: "1.2.3",
        options: { defaultMemoryBytes: 1 },
      }),
    ).not.toBe(base);
  });

  it("ignores where things are written (comments, lines) and the reset commands", async () => {
    const base = reuseKey({ project: await project(), imageIds: IDS, berthVersion: "1" });
    const moved = await project(
      `# a comment that moves every line\n\n${FILE.replace("psql -c 'select 1'", "echo reset")}`,
    );
    expect(reuseKey({ project: moved, imageIds: IDS, berthVersion: "1" })).toBe(base);
    expect(majorVersion("0.1.0")).toBe("0");
  });
});

describe("x-berth reuse settings", () => {
  it("parses x-berth.reset per service in exec form and x-berth.reuse at the top", async () => {
    const p = await project(`x-berth:\n  reuse: { ttl: 2h }\n${FILE}`);
    expect(p.services.db!.berth.reset).toEqual([
      ["/bin/sh", "-c", "psql -c 'select 1'"],
      ["redis-cli", "FLUSHALL"],
    ]);
    expect(p.reuse).toEqual({ enabled: true, ttlMs: 7_200_000 });
    expect((await project(`x-berth:\n  reuse: true\n${FILE}`)).reuse).toEqual({ enabled: true });
    expect((await project(FILE)).reuse).toBeUndefined();
  });

  it("refuses bad values naming file, field and value", async () => {
    await expect(project(`x-berth:\n  reuse: { ttl: soon }\n${FILE}`)).rejects.toThrow(
      /x-berth\.reuse\.ttl.*soon/s,
    );
    await expect(project(`x-berth:\n  reuse: maybe\n${FILE}`)).rejects.toThrow(/x-berth\.reuse.*maybe/s);
    await expect(project(`x-berth:\n  reuse: { tll: 1h }\n${FILE}`)).rejects.toThrow(/x-berth\.reuse\.tll/);
    await expect(project(FILE.replace("- psql -c 'select 1'", '- ""'))).rejects.toThrow(/reset.*empty/);
  });
});

describe("reuse decision", () => {
  const files = { reuse: { enabled: true } };
  it("is off by default; on by option, BERTH_REUSE or the files; the option wins", () => {
    expect(reuseDecision(undefined, {}, {})).toEqual({ enabled: false });
    expect(reuseDecision(true, {}, {}).enabled).toBe(true);
    expect(reuseDecision(undefined, {}, { BERTH_REUSE: "1" }).enabled).toBe(true);
    expect(reuseDecision(undefined, files, {}).enabled).toBe(true);
    expect(reuseDecision(undefined, files, { BERTH_REUSE: "0" }).enabled).toBe(false);
    expect(reuseDecision(false, files, { BERTH_REUSE: "1" }).enabled).toBe(false);
  });

  it("is off when CI is set, and says so, unless BERTH_REUSE=force", () => {
    const off = reuseDecision(true, {}, { CI: "true" });
    expect(off.enabled).toBe(false);
    expect(off.note).toMatch(/CI is set.*BERTH_REUSE=force/);
    expect(reuseDecision(true, {}, { CI: "true", BERTH_REUSE: "force" }).enabled).toBe(true);
    expect(reuseDecision(true, {}, { CI: "false" }).enabled).toBe(true);
    expect(reuseDecision(undefined, {}, { CI: "1" })).toEqual({ enabled: false });
  });
});

const lease = (generation: number, kind: "take" | "release", owner: string, created: string) => ({
  id: `l${generation}`,
  labels: {
    [LABELS.lease]: kind,
    [LABELS.leaseGeneration]: String(generation),
    [LABELS.owner]: owner,
    [LABELS.created]: created,
  },
});

describe("lease state", () => {
  const t = (s: string) => `2026-01-01T00:00:${s}Z`;
  it("reads the highest generation: a live owner's take is leased, a release or a dead owner's take is idle", () => {
    expect(leaseState([], 5)).toEqual({ generation: 0, state: "idle", idleSince: 5 });
    expect(leaseState([lease(1, "take", alive, t("01"))], 0)).toMatchObject({
      generation: 1,
      state: "leased",
      holder: alive,
    });
    expect(leaseState([lease(1, "take", alive, t("01")), lease(2, "release", alive, t("02"))], 0)).toEqual({
      generation: 2,
      state: "idle",
      idleSince: Date.parse(t("02")),
    });
    expect(leaseState([lease(3, "take", DEAD, t("03"))], 0)).toMatchObject({
      state: "idle",
      holderState: "dead",
    });
    expect(leaseState([lease(3, "take", "other-host/1/1", t("03"))], 0).state).toBe("leased");
  });
});

function container(
  service: string,
  over: Partial<ListedContainer> = {},
  labels: Record<string, string> = {},
): ListedContainer {
  return {
    Id: `id-${service}`,
    Names: [`/p-${service}-1`],
    State: "running",
    Status: "Up 3 minutes (healthy)",
    Labels: { [LABELS.session]: "s1", [LABELS.project]: "p", [LABELS.service]: service, ...labels },
    Ports: service === "db" ? [{ PrivatePort: 5432, PublicPort: 49153, Type: "tcp", IP: "127.0.0.1" }] : [],
    ...over,
  };
}

describe("safety check before hand-over", () => {
  it("passes a running, healthy, published environment with its one-shot service exited 0", async () => {
    const p = await project();
    const services = new Map([
      ["db", container("db")],
      ["migrate", container("migrate", { State: "exited", Status: "Exited (0) 2 minutes ago" })],
      ["api", container("api", { Status: "Up 3 minutes" })],
    ]);
    expect(safetyProblems(p, services)).toEqual([]);
  });

  it("names every problem: stopped, unhealthy, unpublished, missing, failed one-shot", async () => {
    const p = await project();
    const services = new Map([
      ["db", container("db", { Status: "Up 1 minute (unhealthy)", Ports: [] })],
      ["migrate", container("migrate", { State: "exited", Status: "Exited (1) 2 minutes ago" })],
    ]);
    expect(safetyProblems(p, services)).toEqual([
      "service db is unhealthy",
      "port 5432/tcp of service db is not published",
      "one-shot service migrate is Exited (1) 2 minutes ago",
      "service api has no container",
    ]);
    const stopped = new Map([
      ["db", container("db", { State: "exited", Status: "Exited (137) 1 second ago" })],
    ]);
    expect(safetyProblems(p, stopped)[0]).toBe("service db is exited (Exited (137) 1 second ago)");
  });
});

describe("candidates", () => {
  it("groups containers by session with their lease, and orders idle ones rotated by pid", () => {
    const envs = groupEnvironments([
      container("db", {}, { [LABELS.session]: "a", [LABELS.created]: "2026-01-01T00:00:00Z" }),
      {
        ...container("lease", {}, { [LABELS.session]: "a" }),
        ...{
          Labels: { [LABELS.session]: "a", ...lease(2, "release", alive, "2026-01-01T00:01:00Z").labels },
        },
      },
      container("db", {}, { [LABELS.session]: "b", [LABELS.created]: "2026-01-01T00:00:00Z" }),
      {
        ...container("lease", {}, {}),
        Labels: { [LABELS.session]: "b", ...lease(1, "take", alive, "2026-01-01T00:00:01Z").labels },
      },
      container("db", {}, { [LABELS.session]: "c", [LABELS.created]: "2026-01-01T00:00:00Z" }),
    ]);
    expect(envs.map((e) => [e.session, e.lease.state, [...e.services.keys()]])).toEqual([
      ["a", "idle", ["db"]],
      ["b", "leased", ["db"]],
      ["c", "idle", ["db"]],
    ]);
    // The lease containers' ids, which the release of a briefly held lease removes without a list.
    expect(envs.map((e) => e.leaseIds)).toEqual([["id-lease"], ["id-lease"], []]);
    expect(idleInOrder(envs, 0).map((e) => e.session)).toEqual(["a", "c"]);
    expect(idleInOrder(envs, 1).map((e) => e.session)).toEqual(["c", "a"]);
  });
  it("names the lease containers below the highest generation, which may go at any time", () => {
    const leaseContainer = (id: string, generation: number, kind: "take" | "release") => ({
      ...container("lease", {}, {}),
      Id: id,
      Labels: { [LABELS.session]: "a", ...lease(generation, kind, alive, "2026-01-01T00:01:00Z").labels },
    });
    const [env] = groupEnvironments([
      container("db", {}, { [LABELS.session]: "a", [LABELS.created]: "2026-01-01T00:00:00Z" }),
      leaseContainer("g7", 7, "take"),
      leaseContainer("g8", 8, "release"),
      leaseContainer("g5", 5, "release"),
    ]);
    expect(env!.lease).toMatchObject({ generation: 8, state: "idle" });
    expect(env!.leaseIds).toEqual(["g7", "g8", "g5"]);
    expect(env!.lowerLeaseIds).toEqual(["g7", "g5"]);
    // One generation only: nothing below it.
    const [single] = groupEnvironments([
      container("db", {}, { [LABELS.session]: "a" }),
      leaseContainer("g1", 1, "take"),
    ]);
    expect(single!.lowerLeaseIds).toEqual([]);
  });
  it("keeps the environments of one key from a list of every reusable container", () => {
    const of = (session: string, key: string) =>
      container("db", {}, { [LABELS.session]: session, [LABELS.reuseKey]: key });
    const leaseOf = (session: string, key: string) => ({
      ...container("lease", {}, {}),
      Labels: {
        [LABELS.session]: session,
        [LABELS.reuseKey]: key,
        ...lease(1, "release", alive, "2026-01-01T00:01:00Z").labels,
      },
    });
    const envs = environmentsOfKey(
      [of("a", "k1"), leaseOf("a", "k1"), of("b", "k2"), leaseOf("b", "k2"), of("c", "k1")],
      "k1",
    );
    expect(envs.map((e) => [e.session, e.lease.generation])).toEqual([
      ["a", 1],
      ["c", 0],
    ]);
  });
});

describe("gc of reusable environments", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const facts = (leased: boolean, idleMs: number): SessionFacts => ({
    ownerState: "dead",
    detached: true,
    reusable: { leased, idleMs, ttlMs: 3_600_000 },
  });
  const rules = (over: Partial<GcRules> = {}): GcRules => ({ now, ...over });
  it("keeps leased ones, expires idle ones after their TTL or --older-than, takes all with --all", () => {
    expect(gcVerdict(facts(true, 9e9), rules({ all: true }))).toEqual({ remove: false, reason: "leased" });
    expect(gcVerdict(facts(false, 60_000), rules())).toEqual({ remove: false, reason: "idle" });
    expect(gcVerdict(facts(false, 3_600_000), rules())).toEqual({ remove: true, reason: "expired" });
    expect(gcVerdict(facts(false, 60_000), rules({ olderThanMs: 30_000 }))).toEqual({
      remove: true,
      reason: "expired",
    });
    expect(gcVerdict(facts(false, 60_000), rules({ all: true }))).toEqual({ remove: true, reason: "all" });
  });

  it("berth down --reusable takes idle ones, --all leased ones too, and never a plain environment", () => {
    expect(gcVerdict(facts(false, 0), rules({ reusable: "idle" })).remove).toBe(true);
    expect(gcVerdict(facts(true, 0), rules({ reusable: "idle" })).remove).toBe(false);
    expect(gcVerdict(facts(true, 0), rules({ reusable: "all" })).remove).toBe(true);
    expect(gcVerdict({ ownerState: "dead", detached: false }, rules({ reusable: "all" })).remove).toBe(false);
  });
});
