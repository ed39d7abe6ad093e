// A daemon restarted under berth's feet: a private dockerd (its own network namespace) is stopped
// and started again while one environment comes up and another goes down. Both operations must
// fail with an error that says the daemon went away and names it, wait for it to answer again,
// and leave nothing once it is back (checked by berth's labels on that daemon).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../engine/engine.js";
import { DaemonWentAwayError } from "../../engine/errors.js";
import { importBusyboxFixture } from "../../fixtures/busybox.js";
import {
  type PrivateDaemon,
  privateDaemonUnavailable,
  startPrivateDaemon,
} from "../../fixtures/private-daemon.js";
import { guardEngine } from "../../guard/guard.js";
import { listResources } from "../../janitor/inventory.js";
import { LABELS } from "../../model/labels.js";
import type { StartedEnvironment } from "../../stack/environment.js";
import { up } from "../../stack/up.js";
import { startAnswerRelay } from "../answer-relay.js";
import { check, checkRejects, type Scenario, type ScenarioContext, ScenarioSkipped } from "../scenario.js";

// `db` never becomes healthy (its probe fails, with retries to spare), so the up is still waiting
// for it when the daemon goes; `idle` takes 2 s to act on SIGTERM, so the down's stop is still
// in flight then (its grace stays short: a daemon's shutdown waits for the longest one).
const WAITING = (image: string) => `services:
  db:
    image: ${image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    healthcheck: { test: ["CMD", "false"], interval: 1s, retries: 100 }
  api:
    image: ${image}
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
    depends_on: { db: { condition: service_healthy } }
`;
const RUNNING = (image: string) => `services:
  idle:
    image: ${image}
    command: ["sh", "-c", "trap 'sleep 2; exit 0' TERM; sleep 3600 & wait"]
    stop_grace_period: 4s
`;

function stackFile(ctx: ScenarioContext, yaml: string): { file: string; dir: string } {
  const dir = ctx.tempDir();
  writeFileSync(join(dir, "compose.yml"), yaml);
  return { file: join(dir, "compose.yml"), dir };
}

/** What the operation threw, checked to say that the daemon went away, and where. */
function checkWentAway(error: unknown, during: string, endpoint: string): DaemonWentAwayError {
  const said = String((error as Error)?.message ?? error).split("\n")[0];
  check(
    error instanceof DaemonWentAwayError,
    `the ${during}'s error does not say the daemon went away: ${(error as Error)?.name}: ${said}`,
    { expected: "DaemonWentAwayError", actual: said },
  );
  check(
    error.endpoint === endpoint && said?.includes(endpoint),
    `the ${during}'s error does not name ${endpoint}`,
    {
      actual: said,
    },
  );
  return error;
}

async function restartUnder(
  ctx: ScenarioContext,
  daemon: PrivateDaemon,
  operations: Promise<unknown>[],
): Promise<{ downMs: number }> {
  const began = performance.now();
  await daemon.shutDown();
  const downMs = performance.now() - began;
  await daemon.startAgain();
  ctx.observe("restartMs", Math.round(performance.now() - began));
  await Promise.allSettled(operations);
  return { downMs };
}

export const daemonRestart: Scenario = {
  id: "cleanup.daemon-restart",
  category: "cleanup",
  title: "A daemon restarted under an up and a down: a clear error, a retried cleanup, nothing left",
  exclusive: true,
  timeoutMs: 90_000,
  fault: {
    kind: "setup",
    describe:
      "berth reaches the daemon through a socket proxy that hides the restart (answers 503 while the daemon is away)",
    expect: /error does not say the daemon went away/,
  },
  async run(ctx) {
    const unavailable = privateDaemonUnavailable();
    if (unavailable) throw new ScenarioSkipped(unavailable);
    const daemon = await ctx.time("daemon", () =>
      startPrivateDaemon({ extraArgs: ["--shutdown-timeout=1"] }),
    );
    ctx.defer(() => daemon.stop());
    const image = await ctx.time("image", () => importBusyboxFixture(daemon.engine));
    let endpoint = daemon.dockerHost;
    if (ctx.faulted) {
      const relay = await startAnswerRelay(daemon.engine.endpoint, [
        { path: /./, unreachable: { status: 503, body: { message: "upstream unavailable" } } },
      ]);
      ctx.defer(() => relay.close());
      endpoint = relay.dockerHost;
    }
    const engine = new Engine({ dockerHost: endpoint });
    ctx.defer(() => engine.close());
    guardEngine(engine);
    const upOptions = (stack: { file: string; dir: string }) => ({
      files: [stack.file],
      cwd: stack.dir,
      engine,
      env: {},
      watch: false,
      serviceTimeoutMs: 60_000,
      timeoutMs: 80_000,
      signal: ctx.signal,
    });
    const running: StartedEnvironment = await up(upOptions(stackFile(ctx, RUNNING(image))));
    let waiting!: () => void;
    const upWaiting = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const upFailure = checkRejects(
      () =>
        up({
          ...upOptions(stackFile(ctx, WAITING(image))),
          onProgress: (e) => {
            if (e.type === "service" && e.service === "db" && e.phase === "waiting") waiting();
          },
        }),
      "an up while the daemon restarts",
    );
    await Promise.race([upWaiting, upFailure]);
    const downFailure = checkRejects(() => running.down(), "a down while the daemon restarts");
    // The down's stop is in flight (its container ignores SIGTERM) when the daemon goes.
    await ctx.sleep(300);
    await ctx.time("restart", () => restartUnder(ctx, daemon, [upFailure, downFailure]));

    const upError = checkWentAway(await upFailure, "up", endpoint);
    const downError = checkWentAway(await downFailure, "down", endpoint);
    ctx.observe("upError", upError.message);
    ctx.observe("downError", downError.message);
    check(
      upError.cleanedUp && downError.cleanedUp,
      "berth did not finish removing once the daemon was back",
      {
        actual: `up: ${upError.cleanedUp}, down: ${downError.cleanedUp}`,
      },
    );
    // The private daemon holds only what this scenario made: anything labelled is left over.
    const left = await listResources(daemon.engine, { labels: [LABELS.session] });
    check(left.length === 0, `${left.length} labelled resource(s) left on the restarted daemon`, {
      expected: 0,
      actual: left.map((r) => `${r.kind} ${r.name}`),
    });
    return { endpoint, left: 0 };
  },
};
