// A session owner for the reaper tests, run as its own process (`node --import tsx`). It brings up
// a 3-service busybox environment (db, cache, api) through a berth session, the way any berth
// component does (beforeCreate, labels: a network, then each container created and started with
// pauses), and reports each step as a JSON line on stdout, so the test can SIGKILL it at a chosen
// step. It starts work only when a line arrives on stdin, so a test can start it ahead of time.
//   janitor-owner.ts IMAGE SESSION_ID [kill|exit|detach|detach-late] [--stack | --after-ended-session]
// kill: wait to be killed once up. exit: take it down, end the session, exit normally. detach:
// detach the session (created detachable, as `berth up` does), then exit. detach-late: the same,
// once a SIGUSR2 arrives after `up` (a test stops the watchdog first). --stack: bring the
// 3 services up (db <- cache <- api, janitor-owner.compose.yaml) with the stack's `up` instead.
// --after-ended-session: guard and end another session first (reported as `first-ended`, with the
// watchdog's pid), so that the session under test goes to the watchdog kept for the next one.
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Engine } from "../../src/engine/engine.js";
import { createNetworkWithRecovery } from "../../src/janitor/address-pools.js";
import { watchdogPid } from "../../src/janitor/reaper.js";
import { createSession } from "../../src/janitor/session.js";
import { safeRemove } from "../../src/lifecycle/safe-remove.js";
import type { StackEvent } from "../../src/stack/progress/events.js";

const [image, sessionId, mode = "kill", flag] = process.argv.slice(2);
if (!image || !sessionId || !["kill", "exit", "detach", "detach-late"].includes(mode)) {
  process.stderr.write(
    "usage: janitor-owner.ts IMAGE SESSION_ID [kill|exit|detach|detach-late] [--stack | --after-ended-session]\n",
  );
  process.exit(2);
}

const SERVICES = ["db", "cache", "api"] as const;
const COMMAND = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

const report = (event: string, extra: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let guardedReported = false;
const reportGuarded = () => {
  if (guardedReported || watchdogPid() === undefined) return;
  guardedReported = true;
  report("guarded", { pid: process.pid, watchdog: watchdogPid() });
};

const gate = createInterface({ input: process.stdin });
report("waiting", { pid: process.pid });
await once(gate, "line");
gate.close();
process.stdin.destroy();

async function withStack(): Promise<void> {
  const started = new Set<string>();
  const onProgress = (event: StackEvent) => {
    reportGuarded();
    if (event.type === "resource" && event.kind === "network" && event.action === "created")
      report("network");
    if (event.type === "service" && event.phase === "created") report("created", { service: event.service });
    if (event.type === "service" && (event.phase === "waiting" || event.phase === "ready")) {
      if (!started.has(event.service)) report("started", { service: event.service });
      started.add(event.service);
    }
  };
  // Loaded only in this mode, so the session mode does not depend on the stack's modules.
  const { up } = await import("../../src/stack/up.js");
  const environment = await up({
    files: [fileURLToPath(new URL("./janitor-owner.compose.yaml", import.meta.url))],
    env: { ...process.env, BERTH_FIXTURE_IMAGE: image },
    sessionId,
    detach: mode === "detach",
    onProgress,
  });
  report("up", { project: environment.project });
  if (mode === "exit") {
    await environment.down();
    report("ended");
  }
}

async function withSession(): Promise<void> {
  const engine = new Engine();
  if (flag === "--after-ended-session") {
    const first = createSession(engine);
    await first.beforeCreate();
    await first.end();
    report("first-ended", { watchdog: watchdogPid() });
  }
  const session = createSession(engine, { id: sessionId, detachable: mode.startsWith("detach") });
  await session.beforeCreate();
  reportGuarded();
  const network = `${session.project}_default`;
  await createNetworkWithRecovery(engine, { Name: network, Labels: session.labels(), CheckDuplicate: true });
  report("network");
  const containers: string[] = [];
  for (const service of SERVICES) {
    await session.beforeCreate();
    const { id } = await engine.createContainer({
      name: `${session.project}-${service}-1`,
      Image: image,
      Cmd: COMMAND,
      Labels: session.labels(service),
      HostConfig: { NetworkMode: network },
      NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [service] } } },
    });
    containers.push(id);
    report("created", { service });
    await pause(150);
    await engine.startContainer(id);
    report("started", { service });
    await pause(150);
  }
  // Listening before `up` is reported: a signal that came first would be lost (and SIGUSR2, not
  // SIGUSR1, which starts Node's inspector when nobody listens).
  const signalled = mode === "detach-late" ? once(process, "SIGUSR2") : undefined;
  // A pending signal listener does not keep Node running: the timer does, until the signal.
  const alive = signalled ? setInterval(() => {}, 1_000) : undefined;
  report("up", { project: session.project });
  if (mode === "exit") {
    await Promise.all(containers.map((id) => safeRemove(engine, id)));
    await engine.removeNetwork(network);
    await session.end();
    report("ended");
  } else if (mode === "detach") {
    await session.detach();
  } else if (signalled) {
    await signalled;
    clearInterval(alive);
    await session.detach();
  }
}

await (flag === "--stack" ? withStack() : withSession());
if (mode.startsWith("detach")) report("detached");
// kill: stay until the test kills us (bounded, should it never).
if (mode === "kill") setTimeout(() => {}, 120_000);
