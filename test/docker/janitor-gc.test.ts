// `berth gc` against the real daemon: sessions of dead owners (exited pid, recycled pid) go,
// containers by safe removal first, then networks and volumes; a live owner's session stays
// whatever the flags; another host's stays unless --all; --dry-run removes nothing.
import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeResources } from "../../src/janitor/remove.js";
import { currentOwner, LABELS, type OwnerIdentity, sessionLabels } from "../../src/model/labels.js";
import { sessionResources } from "./janitor-support.js";
import { engine, fixtureImage } from "./support.js";

const run = promisify(execFile);
const cli = join(process.cwd(), "bin", "berth.js");
const scope = `gc-${randomUUID().slice(0, 8)}`;
const scopeLabel = { "berth.test-scope": scope };

function exitedPid(): number {
  return Number(execFileSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).trim());
}

const me = currentOwner();
type Kind = "dead" | "recycled" | "live" | "foreign";
const owners: Record<Kind, OwnerIdentity> = {
  dead: { host: hostname(), pid: exitedPid(), startTime: "1" },
  recycled: { ...me, startTime: String(Number(me.startTime) + 1) },
  live: me,
  foreign: { host: "elsewhere.example", pid: 1, startTime: "1" },
};
const sessionId = (kind: Kind) => `gc${kind}${randomUUID().replace(/-/g, "").slice(0, 8)}`;
const sessions: Record<Kind, string> = {
  dead: sessionId("dead"),
  recycled: sessionId("recycled"),
  live: sessionId("live"),
  foreign: sessionId("foreign"),
};

async function createSessionResources(kind: Kind): Promise<void> {
  const labels = sessionLabels({
    session: sessions[kind],
    project: `gc-${kind}`,
    owner: owners[kind],
    extra: scopeLabel,
  });
  const network = `berth-test-${sessions[kind]}`;
  await engine.createNetwork({ Name: network, Labels: labels, CheckDuplicate: true });
  const { name: volume } = await engine.createVolume({
    Name: `berth-test-${sessions[kind]}-data`,
    Labels: labels,
  });
  const { id } = await engine.createContainer({
    name: `berth-test-${sessions[kind]}-app`,
    Image: fixtureImage(),
    Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
    Labels: { ...labels, [LABELS.service]: "app" },
    HostConfig: { NetworkMode: network, Binds: [`${volume}:/data`] },
  });
  await engine.startContainer(id);
}

interface GcJson {
  dryRun: boolean;
  counts: { containers: number; networks: number; volumes: number };
  sessions: { session: string; action: string; reason: string; ownerState: string }[];
  failures: unknown[];
}

async function berthGc(...args: string[]): Promise<GcJson> {
  const { stdout } = await run(process.execPath, [
    cli,
    "gc",
    "--json",
    "--label",
    `berth.test-scope=${scope}`,
    ...args,
  ]);
  return JSON.parse(stdout.trim()) as GcJson;
}

const verdicts = (report: GcJson) =>
  Object.fromEntries(report.sessions.map((s) => [s.session, `${s.action}:${s.reason}`]));

describe.sequential("berth gc", () => {
  beforeAll(async () => {
    await Promise.all((Object.keys(owners) as Kind[]).map(createSessionResources));
  });

  afterAll(async () => {
    for (const session of Object.values(sessions)) {
      await removeResources(engine, await sessionResources(engine, session), { maxGraceSeconds: 2 });
    }
  });

  it("--dry-run lists the dead owners' sessions and removes nothing", async () => {
    const report = await berthGc("--dry-run");
    expect(report.dryRun).toBe(true);
    expect(verdicts(report)).toEqual({
      [sessions.dead]: "remove:owner-dead",
      [sessions.recycled]: "remove:owner-dead",
      [sessions.live]: "keep:owner-alive",
      [sessions.foreign]: "keep:foreign-host",
    });
    expect(report.counts).toEqual({ containers: 2, networks: 2, volumes: 2 });
    for (const session of Object.values(sessions)) {
      expect(await sessionResources(engine, session)).toHaveLength(3);
    }
  });

  it("removes the dead owners' containers, networks and volumes, and leaves the live and foreign ones", async () => {
    const report = await berthGc();
    expect(report.failures).toEqual([]);
    expect(report.counts).toEqual({ containers: 2, networks: 2, volumes: 2 });
    expect(await sessionResources(engine, sessions.dead)).toEqual([]);
    expect(await sessionResources(engine, sessions.recycled)).toEqual([]);
    expect(await sessionResources(engine, sessions.live)).toHaveLength(3);
    expect(await sessionResources(engine, sessions.foreign)).toHaveLength(3);
    const live = await engine.inspectContainer(`berth-test-${sessions.live}-app`);
    expect(live.State.Running).toBe(true);
  });

  it("--all also takes other hosts' sessions, still never a live owner's", async () => {
    const report = await berthGc("--all");
    expect(verdicts(report)).toEqual({
      [sessions.live]: "keep:owner-alive",
      [sessions.foreign]: "remove:all",
    });
    expect(await sessionResources(engine, sessions.foreign)).toEqual([]);
    expect(await sessionResources(engine, sessions.live)).toHaveLength(3);
  });

  it("--label picks whole sessions: a label on the service container alone takes its network and volume too", async () => {
    // A Compose file's `labels:` reach the service containers only; the session's network and
    // volume carry berth's labels alone. gc removes sessions, not the labelled part of one.
    const session = `gcsvc${randomUUID().replace(/-/g, "").slice(0, 8)}`;
    const serviceLabel = `berth.test-service-${scope}`;
    const labels = sessionLabels({ session, project: "gc-service-label", owner: owners.dead });
    try {
      await engine.createNetwork({ Name: `berth-test-${session}`, Labels: labels, CheckDuplicate: true });
      await engine.createVolume({ Name: `berth-test-${session}-data`, Labels: labels });
      await engine.createContainer({
        name: `berth-test-${session}-app`,
        Image: fixtureImage(),
        Cmd: ["sleep", "3600"],
        Labels: { ...labels, [LABELS.service]: "app", [serviceLabel]: "yes" },
        HostConfig: { NetworkMode: `berth-test-${session}` },
      });
      const { stdout } = await run(process.execPath, [cli, "gc", "--json", "--label", `${serviceLabel}=yes`]);
      const report = JSON.parse(stdout.trim()) as GcJson;
      expect(verdicts(report)).toEqual({ [session]: "remove:owner-dead" });
      expect(report.counts).toEqual({ containers: 1, networks: 1, volumes: 1 });
      expect(await sessionResources(engine, session)).toEqual([]);
    } finally {
      await removeResources(engine, await sessionResources(engine, session), { maxGraceSeconds: 2 });
    }
  });

  it("--older-than takes what is old enough and refuses a bad duration with exit 2", async () => {
    const report = await berthGc("--older-than", "1h", "--dry-run");
    expect(verdicts(report)).toEqual({ [sessions.live]: "keep:owner-alive" });
    const bad = await run(process.execPath, [cli, "gc", "--older-than", "soon"]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((bad as { code: number }).code).toBe(2);
  });
});
