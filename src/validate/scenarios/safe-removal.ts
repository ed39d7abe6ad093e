// Safe removal: what replaces `docker rm -f`. The container's own stop signal arrives and its
// handler runs, the daemon escalates only after the grace period, removal is idempotent and safe
// against a concurrent removal, restart policies cannot resurrect it, anonymous volumes go with it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { safeRemove } from "../../lifecycle/safe-remove.js";
import { inspectRewrite, STOP_BECOMES_KILL } from "../faults.js";
import { GRACE_SECONDS } from "../run-scope.js";
import { type Category, check, checkEqual, relayFault, scenarioIn } from "../scenario.js";

const C = "safe-removal";
const scenario = scenarioIn(C);
const IGNORES_TERM = ["sh", "-c", "trap '' TERM; echo ready; sleep 3600 & wait"];

const sigtermTrap = scenario("sigterm-honoured", {
  title: "SIGTERM arrives first and the container's trap runs (marker written)",
  quick: true,
  fault: relayFault(
    "the stop reaches the daemon as a SIGKILL, so no trap runs",
    /marker written by the SIGTERM trap: expected `trapped`, got null/,
    [STOP_BECOMES_KILL],
  ),
  async run(ctx) {
    const dir = ctx.tempDir();
    const { id } = await ctx.container({
      cmd: ["sh", "-c", "trap 'echo trapped > /out/marker; exit 0' TERM; echo ready; sleep 3600 & wait"],
      ready: "ready",
      create: { HostConfig: { Binds: [`${dir}:/out`] } },
    });
    const record = await safeRemove(ctx.engine, id, { graceSeconds: GRACE_SECONDS });
    ctx.sample("safeRemove", record.totalMs);
    const marker = join(dir, "marker");
    const content = existsSync(marker) ? readFileSync(marker, "utf8").trim() : null;
    checkEqual(record.stopSignal, "SIGTERM", "first signal");
    checkEqual(content, "trapped", "marker written by the SIGTERM trap");
    checkEqual(record.outcome, "exited", "removal outcome");
    checkEqual(record.exitCode, 0, "exit code");
    check((await ctx.engine.findContainer(id)) === undefined, "container still exists after safe removal");
    return {
      outcome: record.outcome,
      exitCode: record.exitCode,
      marker: content,
      steps: record.steps.map((s) => `${s.step} ${Math.round(s.durationMs)}ms`),
    };
  },
});

const escalation = scenario("escalation-after-grace", {
  title: "A container that ignores SIGTERM is killed only after its grace period",
  quick: true,
  fault: relayFault(
    "the stop reaches the daemon without its grace period (t=0)",
    /removal outcome: expected `killed-after-grace`, got `exited`|the kill came before the 4 s grace period ended/,
    [
      {
        method: "POST",
        path: /^\/containers\/[^/]+\/stop/,
        request: (path) => path.replace(/([?&]t=)\d+/, "$10"),
      },
    ],
  ),
  async run(ctx) {
    // 4 s, not 2: Docker 20.10 itself takes about 2 s to deliver the kill of a stop with t=0, so
    // a 2 s grace period could not tell a lost grace period from a kept one.
    const GRACE = 4;
    const { id } = await ctx.container({ cmd: IGNORES_TERM, ready: "ready" });
    const record = await safeRemove(ctx.engine, id, { graceSeconds: GRACE });
    const stop = record.steps.find((s) => s.step === "stop");
    checkEqual(record.outcome, "killed-after-grace", "removal outcome");
    checkEqual(record.exitCode, 137, "exit code");
    check(
      stop && stop.durationMs >= GRACE * 1000 - 100,
      `the kill came before the ${GRACE} s grace period ended`,
      {
        expected: `>= ${GRACE * 1000 - 100} ms`,
        actual: Math.round(stop?.durationMs ?? 0),
      },
    );
    // Only a stop that never ends is wrong here: a busy daemon may take a while to deliver the kill.
    check(
      stop && stop.durationMs < 60_000,
      `the stop did not end within a minute of its ${GRACE} s grace period`,
      {
        expected: "< 60000 ms",
        actual: Math.round(stop?.durationMs ?? 0),
      },
    );
    return {
      outcome: record.outcome,
      exitCode: record.exitCode,
      graceSeconds: GRACE,
      stopMs: Math.round(stop!.durationMs),
    };
  },
});

const stopTimeout = scenario("own-stop-timeout", {
  title: "The container's own StopTimeout is its grace period",
  fault: relayFault(
    "the daemon reports a StopTimeout of 3 s instead of the container's 1 s",
    /grace period used: expected 1, got 3/,
    [
      inspectRewrite((info) => {
        info.Config.StopTimeout = 3;
      }),
    ],
  ),
  async run(ctx) {
    const { id } = await ctx.container({ cmd: IGNORES_TERM, ready: "ready", create: { StopTimeout: 1 } });
    const record = await safeRemove(ctx.engine, id);
    checkEqual(record.graceSeconds, 1, "grace period used");
    checkEqual(record.outcome, "killed-after-grace", "removal outcome");
    return {
      graceSeconds: record.graceSeconds,
      outcome: record.outcome,
      totalMs: Math.round(record.totalMs),
    };
  },
});

const stopSignal = scenario("own-stop-signal", {
  title: "A container's own stop signal (SIGINT) is the one sent",
  fault: relayFault(
    "the stop reaches the daemon as a SIGKILL instead of the container's SIGINT",
    /marker from the INT trap: expected `int`, got null/,
    [STOP_BECOMES_KILL],
  ),
  async run(ctx) {
    const dir = ctx.tempDir();
    const { id } = await ctx.container({
      cmd: [
        "sh",
        "-c",
        "trap '' TERM; trap 'echo int > /out/marker; exit 0' INT; echo ready; sleep 3600 & wait",
      ],
      ready: "ready",
      create: { StopSignal: "SIGINT", HostConfig: { Binds: [`${dir}:/out`] } },
    });
    const record = await safeRemove(ctx.engine, id, { graceSeconds: GRACE_SECONDS });
    const marker = join(dir, "marker");
    checkEqual(record.stopSignal, "SIGINT", "signal sent");
    checkEqual(
      existsSync(marker) ? readFileSync(marker, "utf8").trim() : null,
      "int",
      "marker from the INT trap",
    );
    checkEqual(record.outcome, "exited", "removal outcome");
    return { stopSignal: record.stopSignal, outcome: record.outcome, exitCode: record.exitCode };
  },
});

const alreadyRemoved = scenario("already-removed", {
  title: "Removing a container that is already gone succeeds (idempotent)",
  quick: true,
  fault: relayFault(
    "the daemon answers the first lookup of a container that never existed as if it existed",
    /outcome for a container that never existed: expected `already-removed`/,
    [
      {
        method: "GET",
        path: /^\/containers\/[^/]*never-created[^/]*\/json/,
        times: 1,
        answer: {
          status: 200,
          body: {
            Id: "f".repeat(64),
            Name: "/never-created",
            State: { Status: "exited", Running: false, Paused: false, Restarting: false, ExitCode: 0 },
            Config: { Labels: {} },
            HostConfig: {},
            Mounts: [],
          },
        },
      },
    ],
  ),
  async run(ctx) {
    const never = await safeRemove(ctx.engine, ctx.name("never-created"));
    checkEqual(never.outcome, "already-removed", "outcome for a container that never existed");
    const { id } = await ctx.container();
    const first = await safeRemove(ctx.engine, id);
    const second = await safeRemove(ctx.engine, id);
    checkEqual(first.outcome, "exited", "first removal");
    checkEqual(second.outcome, "already-removed", "second removal");
    return { neverCreated: never.outcome, first: first.outcome, second: second.outcome };
  },
});

const inProgress = scenario("removal-in-progress", {
  title: "Concurrent removals of one container all succeed",
  quick: true,
  fault: relayFault(
    "the daemon fails the removals that come while one is in progress (500)",
    /driver failed removing/,
    [
      {
        method: "DELETE",
        path: /^\/containers\/[^/?]+(\?|$)/,
        after: 1,
        answer: { status: 500, body: { message: "berth fault relay: driver failed removing the container" } },
      },
    ],
  ),
  async run(ctx) {
    const { id } = await ctx.container();
    const records = await Promise.all([1, 2, 3].map(() => safeRemove(ctx.engine, id)));
    const outcomes = records.map((r) => r.outcome);
    check(
      outcomes.every((o) => o === "exited" || o === "was-stopped" || o === "already-removed"),
      "a concurrent removal ended in an unexpected way",
      { expected: "exited, was-stopped (another stopped it) or already-removed", actual: outcomes },
    );
    check((await ctx.engine.findContainer(id)) === undefined, "container still exists");
    return { outcomes, joined: records.filter((r) => r.joinedConcurrentRemoval).length };
  },
});

const restartAlways = scenario("restart-always", {
  title: "A restart: always container is removed for good (restart policy disabled first)",
  fault: relayFault(
    "the daemon hides the container's restart policy, so it is never disabled",
    /the restart policy was not disabled before the stop/,
    [
      inspectRewrite((info) => {
        info.HostConfig.RestartPolicy = { Name: "no", MaximumRetryCount: 0 };
      }),
    ],
  ),
  async run(ctx) {
    const { id, name } = await ctx.container({
      create: { HostConfig: { RestartPolicy: { Name: "always" } } },
    });
    const record = await safeRemove(ctx.engine, id);
    check(
      record.steps.some((s) => s.step === "disable-restart"),
      "the restart policy was not disabled before the stop",
      {
        actual: record.steps.map((s) => s.step),
      },
    );
    await ctx.sleep(1_500);
    check((await ctx.engine.findContainer(name)) === undefined, "the container came back after removal");
    return { outcome: record.outcome, steps: record.steps.map((s) => s.step) };
  },
});

const crashLoop = scenario("restart-on-failure", {
  title: "A crash-looping on-failure container is removed between restarts",
  fault: relayFault(
    "the daemon reports a restart count of 0",
    /never restarted, so the scenario tested nothing/,
    [
      inspectRewrite((info) => {
        info.RestartCount = 0;
      }),
    ],
  ),
  async run(ctx) {
    const { id } = await ctx.container({
      cmd: ["sh", "-c", "sleep 0.2; exit 1"],
      create: { HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 50 } } },
    });
    let restarts = 0;
    for (let i = 0; i < 40 && restarts < 1; i++) {
      await ctx.sleep(100);
      restarts = (await ctx.engine.inspectContainer(id)).RestartCount;
    }
    check(restarts >= 1, "the container never restarted, so the scenario tested nothing", {
      actual: restarts,
    });
    const record = await safeRemove(ctx.engine, id);
    await ctx.sleep(1_000);
    check((await ctx.engine.findContainer(id)) === undefined, "the container still exists after removal");
    return { restartsBeforeRemoval: restarts, outcome: record.outcome, exitCode: record.exitCode };
  },
});

const anonymousVolumes = scenario("anonymous-volumes", {
  title: "Anonymous volumes are removed with the container; named volumes are kept",
  quick: true,
  fault: relayFault(
    "the removal reaches the daemon without v=true",
    /anonymous volume \S+ survived the removal/,
    [
      {
        method: "DELETE",
        path: /^\/containers\/[^/?]+\?/,
        request: (path) => path.replace(/([?&]v=)(true|1)/, "$1false"),
      },
    ],
  ),
  async run(ctx) {
    const named = ctx.name("vol");
    await ctx.engine.createVolume({ Name: named, Labels: ctx.labels() });
    ctx.defer(() => ctx.engine.removeVolume(named));
    const { id } = await ctx.container({
      create: { Volumes: { "/data": {} }, HostConfig: { Binds: [`${named}:/named`] } },
    });
    const info = await ctx.engine.inspectContainer(id);
    const anonymous = info.Mounts.find((m) => m.Destination === "/data")?.Name;
    check(anonymous, "the container has no anonymous volume at /data");
    // Only a broken removal leaves it; then it must not outlive the scenario.
    ctx.defer(() => ctx.engine.removeVolume(anonymous).catch(() => {}));
    await safeRemove(ctx.engine, id);
    const left = (await ctx.engine.listVolumes()).map((v) => v.Name);
    check(!left.includes(anonymous), `anonymous volume ${anonymous} survived the removal`);
    check(left.includes(named), `named volume ${named} was removed with the container`);
    return { anonymousVolume: anonymous, anonymousRemoved: true, namedVolumeKept: named };
  },
});

const exited = scenario("exited-container", {
  title: "An exited container is removed without a stop, keeping its exit code in the record",
  fault: relayFault(
    "the daemon reports the exited container as running once",
    /a stop was sent to an exited container/,
    [
      inspectRewrite((info) => void Object.assign(info.State, { Running: true, Status: "running" }), {
        times: 1,
      }),
    ],
  ),
  async run(ctx) {
    const { id } = await ctx.container({ cmd: ["sh", "-c", "exit 3"] });
    await ctx.engine.waitContainer(id, "not-running");
    const record = await safeRemove(ctx.engine, id);
    checkEqual(record.outcome, "was-stopped", "outcome");
    checkEqual(record.exitCode, 3, "exit code");
    check(!record.steps.some((s) => s.step === "stop"), "a stop was sent to an exited container");
    return { outcome: record.outcome, exitCode: record.exitCode };
  },
});

export const safeRemoval: Category = {
  id: C,
  title: "Safe removal",
  scenarios: [
    sigtermTrap,
    escalation,
    stopTimeout,
    stopSignal,
    alreadyRemoved,
    inProgress,
    restartAlways,
    crashLoop,
    anonymousVolumes,
    exited,
  ],
};
