// Cleanup and leaks: a run killed with SIGKILL leaves nothing once its reaper has worked; a
// normal exit leaves no watchdog; gc removes dead runs' resources and never a live or detached
// session's; the leak diff finds what a run left.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type GcOptions, gc } from "../../janitor/gc.js";
import { listResources } from "../../janitor/inventory.js";
import { leaksSince, snapshot } from "../../janitor/leaks.js";
import { LABELS, processStartTime, sessionLabels } from "../../model/labels.js";
import { sleep } from "../../model/sleep.js";
import { RUN_LABEL } from "../run-scope.js";
import { type Category, check, checkEqual, type Scenario, type ScenarioContext } from "../scenario.js";
import { sweepRunResources } from "../sweep.js";
import { deadPid } from "./conflicts.js";

const C = "cleanup";

interface OwnerReport {
  event: string;
  pid: number;
  session?: string;
  watchdog?: number | null;
  resources?: number;
}

/**
 * The owner script: compiled JS beside this module (dist), or the checkout's dist when running
 * from source; only without a build is the TypeScript source run through tsx (slow to start).
 */
function ownerCommand(): string[] {
  const compiled = [
    new URL("../owner-process.js", import.meta.url),
    new URL("../../../dist/validate/owner-process.js", import.meta.url),
  ]
    .map((url) => fileURLToPath(url))
    .find((path) => existsSync(path));
  if (compiled) return [compiled];
  return ["--import", "tsx", fileURLToPath(new URL("../owner-process.ts", import.meta.url))];
}

function startOwner(
  ctx: ScenarioContext,
  mode: "wait" | "exit" | "linger",
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; next: () => Promise<OwnerReport> } {
  const child = spawn(process.execPath, [...ownerCommand(), ctx.image, ctx.engine.endpoint.url, mode], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let session: string | undefined;
  if (env.BERTH_REAPER === "off") {
    // No reaper will come for what the owner leaves: remove it here, before the wait below.
    ctx.defer(async () => {
      if (!session) return;
      const left = await listResources(ctx.engine, { labels: [`${LABELS.session}=${session}`] });
      await sweepRunResources(ctx.engine, left);
    });
  }
  ctx.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    // If the scenario gave up early, let the owner's reaper finish before the run's leak check.
    for (let i = 0; session && i < 120 && (await sessionResources(ctx, session)) > 0; i++) {
      await sleep(250);
    }
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<OwnerReport> => {
    // A plain timer, cleared once the line came: a pending 90 s sleep would keep the whole
    // `berth validate` process alive for 90 s after its last scenario.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<{ done: true; value: undefined }>((resolve) => {
      timer = setTimeout(() => resolve({ done: true, value: undefined }), 90_000);
    });
    const line = await Promise.race([lines.next(), timeout]).finally(() => clearTimeout(timer));
    if (line.done || !line.value)
      throw new Error(`the owner process stopped reporting: ${stderr.trim().slice(-400)}`);
    const report = JSON.parse(line.value) as OwnerReport;
    session ??= report.session;
    return report;
  };
  return { child, next };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function sessionResources(ctx: ScenarioContext, session: string): Promise<number> {
  return (await listResources(ctx.engine, { labels: [`${LABELS.session}=${session}`] })).length;
}

const reaperAfterKill: Scenario = {
  id: `${C}.reaper-after-sigkill`,
  category: C,
  title: "Everything of a run killed with SIGKILL is removed by its reaper",
  quick: true,
  timeoutMs: 150_000,
  fault: {
    kind: "setup",
    describe: "the owner runs with its reaper off (BERTH_REAPER=off)",
    expect: /resources left 30 s after the owner died: expected 0, got [1-9]/,
  },
  async run(ctx) {
    const owner = startOwner(ctx, "wait", ctx.faulted ? { BERTH_REAPER: "off" } : {});
    const ready = await owner.next();
    check(ready.event === "ready" && ready.session, "the owner process did not report its session");
    const session = ready.session;
    const before = await sessionResources(ctx, session);
    checkEqual(before, 4, "resources of the owner's session before the kill");
    owner.child.kill("SIGKILL");
    const killedAt = performance.now();
    let left = before;
    while (left > 0 && performance.now() - killedAt < 30_000) {
      await ctx.sleep(250);
      left = await sessionResources(ctx, session);
    }
    const cleanMs = Math.round(performance.now() - killedAt);
    checkEqual(left, 0, "resources left 30 s after the owner died");
    return {
      session,
      resourcesBeforeKill: before,
      ownerDeathToCleanMs: cleanMs,
      watchdog: ready.watchdog ?? null,
    };
  },
};

const reaperNormalExit: Scenario = {
  id: `${C}.reaper-normal-exit`,
  category: C,
  title: "A run that ends normally leaves no watchdog process and no resources",
  timeoutMs: 150_000,
  fault: {
    kind: "setup",
    describe: "the owner removes its resources but never ends its session and keeps running",
    expect: /watchdog \d+ still runs 5 s after its owner ended its session/,
  },
  async run(ctx) {
    const owner = startOwner(ctx, ctx.faulted ? "linger" : "exit");
    const ready = await owner.next();
    const done = await owner.next();
    checkEqual(done.event, "done", "owner's last report");
    const watchdog = ready.watchdog;
    check(typeof watchdog === "number", "the owner had no reaper watchdog");
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      await ctx.sleep(125);
      alive = processAlive(watchdog);
    }
    check(!alive, `watchdog ${watchdog} still runs 5 s after its owner ended its session`);
    checkEqual(await sessionResources(ctx, ready.session!), 0, "resources left by the owner");
    return { session: ready.session ?? null, watchdog, watchdogGone: true };
  },
};

/**
 * gc scenarios label their sessions with a host name of their own and a scenario label, and run
 * gc for that host and label only: another gc on the same daemon (a parallel test run) sees
 * foreign sessions and keeps them, and parallel scenarios never collect each other's.
 */
const SCENARIO_LABEL = "berth.validate.scenario";
const hostOf = (ctx: ScenarioContext) => `validate-${ctx.runId}`;

function ownerLabels(
  ctx: ScenarioContext,
  session: string,
  alive: boolean,
  extra: Record<string, string> = {},
) {
  const owner = alive
    ? { host: hostOf(ctx), pid: process.pid, startTime: processStartTime(process.pid) ?? "0" }
    : { host: hostOf(ctx), pid: deadPid(), startTime: "1" };
  return {
    ...sessionLabels({ session, project: session, owner }),
    [RUN_LABEL]: ctx.runId,
    [SCENARIO_LABEL]: session,
    ...extra,
  };
}

async function sessionOf(
  ctx: ScenarioContext,
  session: string,
  alive: boolean,
  extra: Record<string, string> = {},
) {
  const labels = ownerLabels(ctx, session, alive, extra);
  const container = await ctx.container({ labels: { ...labels, [LABELS.service]: "app" } });
  const network = ctx.name("gc-net");
  await ctx.engine.createNetwork({ Name: network, Labels: labels, CheckDuplicate: true });
  ctx.defer(() => ctx.engine.removeNetwork(network).catch(() => {}));
  const volume = ctx.name("gc-vol");
  await ctx.engine.createVolume({ Name: volume, Labels: labels });
  ctx.defer(() => ctx.engine.removeVolume(volume).catch(() => {}));
  return { container, network, volume };
}

function gcFor(ctx: ScenarioContext, group: string, options: Omit<GcOptions, "label" | "host"> = {}) {
  return gc(ctx.engine, {
    ...options,
    label: { key: SCENARIO_LABEL, value: group },
    host: hostOf(ctx),
    maxGraceSeconds: 2,
  });
}

const gcDead: Scenario = {
  id: `${C}.gc-dead-session`,
  category: C,
  title: "gc removes a dead run's containers, networks and volumes and leaves a live session alone",
  quick: true,
  fault: {
    kind: "setup",
    describe: "the dead run's resources carry a live owner, so gc must keep them",
    expect: /removed by gc: expected/,
  },
  async run(ctx) {
    const group = `gc${ctx.runId}`;
    await sessionOf(ctx, group, ctx.faulted);
    const live = await ctx.container({
      labels: { ...ownerLabels(ctx, `${group}live`, true), [SCENARIO_LABEL]: group },
    });
    const report = await gcFor(ctx, group);
    checkEqual(report.counts, { containers: 1, networks: 1, volumes: 1 }, "removed by gc");
    checkEqual(await sessionResources(ctx, group), 0, "dead session's resources after gc");
    check(
      (await ctx.engine.findContainer(live.id))?.State.Running,
      "gc touched the live session's container",
    );
    const kept = report.sessions.filter((s) => !s.verdict.remove).map((s) => s.verdict.reason);
    checkEqual(kept, ["owner-alive"], "gc's reason for keeping the live session");
    checkEqual(report.failures.length, 0, "gc failures");
    return { removed: report.counts, kept: `${group}live: ${kept[0]}` };
  },
};

const gcDryRun: Scenario = {
  id: `${C}.gc-dry-run`,
  category: C,
  title: "gc --dry-run lists a dead run's resources and removes nothing",
  fault: {
    kind: "setup",
    describe: "gc runs without --dry-run",
    expect: /dead session's resources after the dry run: expected 3, got 0/,
  },
  async run(ctx) {
    const group = `dry${ctx.runId}`;
    await sessionOf(ctx, group, false);
    const report = await gcFor(ctx, group, { dryRun: !ctx.faulted });
    checkEqual(report.counts, { containers: 1, networks: 1, volumes: 1 }, "listed by the dry run");
    checkEqual(await sessionResources(ctx, group), 3, "dead session's resources after the dry run");
    return { listed: report.counts, stillThere: 3 };
  },
};

const gcDetached: Scenario = {
  id: `${C}.gc-keeps-detached`,
  category: C,
  title: "gc keeps a detached environment (berth up) until asked with --all",
  fault: {
    kind: "setup",
    describe: "the environment lacks its detached label",
    expect: /gc's verdict on the detached session: expected `detached`/,
  },
  async run(ctx) {
    const group = `det${ctx.runId}`;
    await sessionOf(ctx, group, false, ctx.faulted ? {} : { [LABELS.detached]: "true" });
    const first = await gcFor(ctx, group);
    const verdict = first.sessions.find((s) => s.session === group)?.verdict;
    checkEqual(verdict?.reason ?? null, "detached", "gc's verdict on the detached session");
    checkEqual(await sessionResources(ctx, group), 3, "detached session's resources after gc");
    const all = await gcFor(ctx, group, { all: true });
    checkEqual(await sessionResources(ctx, group), 0, "detached session's resources after gc --all");
    return { plainGc: verdict?.reason ?? null, gcAllRemoved: all.counts };
  },
};

const leakDiff: Scenario = {
  id: `${C}.leak-detection`,
  category: C,
  title: "The leak diff finds a container, network and volume left behind, and nothing once removed",
  quick: true,
  fault: {
    kind: "relay",
    describe: "the daemon's network list answers empty",
    expect: /kinds of leaks found: expected/,
    rules: [{ method: "GET", path: /^\/networks(\?|$)/, json: () => [] }],
  },
  async run(ctx) {
    const label = { key: SCENARIO_LABEL, value: `leak${ctx.runId}` };
    const labels = { ...ctx.labels(), [label.key]: label.value };
    const before = await snapshot(ctx.engine);
    const container = await ctx.container({ start: false, create: { Labels: labels } });
    const network = ctx.name("leak-net");
    await ctx.engine.createNetwork({ Name: network, Labels: labels, CheckDuplicate: true });
    const volume = ctx.name("leak-vol");
    await ctx.engine.createVolume({ Name: volume, Labels: labels });
    const found = await leaksSince(before, { engine: ctx.engine, label });
    const kinds = found.map((r) => r.kind).sort();
    checkEqual(kinds, ["container", "network", "volume"], "kinds of leaks found");
    await ctx.engine.removeContainer(container.id, { volumes: true });
    await ctx.engine.removeNetwork(network);
    await ctx.engine.removeVolume(volume);
    const after = await leaksSince(before, { engine: ctx.engine, label });
    checkEqual(after.length, 0, "leaks after removal");
    return { found: found.map((r) => `${r.kind} ${r.name}`), afterRemoval: 0 };
  },
};

export const cleanup: Category = {
  id: C,
  title: "Cleanup and leaks",
  scenarios: [reaperAfterKill, reaperNormalExit, gcDead, gcDryRun, gcDetached, leakDiff],
};
