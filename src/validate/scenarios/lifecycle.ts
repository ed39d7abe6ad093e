// Lifecycle: the daemon creates, starts, stops, restarts and removes containers as asked, with
// the names, labels, exit codes and output berth relies on. Also the run's sequential latency
// samples for create, start, graceful stop and safe removal.

import { safeRemove } from "../../lifecycle/safe-remove.js";
import { LABELS, parseOwner } from "../../model/labels.js";
import { inspectRewrite, STOP_BECOMES_KILL } from "../faults.js";
import { GRACE_SECONDS, RUN_LABEL, TRAPPING_LOOP, waitForOutput } from "../run-scope.js";
import { type Category, check, checkEqual, relayFault, scenarioIn, setupFault } from "../scenario.js";

/** The short form of an image name: Podman records `docker.io/x/y` where Docker keeps `x/y`. */
function familiarName(ref: string): string {
  return ref.replace(/^docker\.io\//, "").replace(/^library\//, "");
}

const C = "lifecycle";
const scenario = scenarioIn(C);

const createStart = scenario("create-start", {
  title: "A fixture container is created and started, and runs",
  quick: true,
  fault: relayFault("the daemon reports the started container as exited", /is not running after start/, [
    inspectRewrite((info) => {
      info.State.Running = false;
      info.State.Status = "exited";
    }),
  ]),
  async run(ctx) {
    const name = ctx.name("create");
    const t0 = performance.now();
    const { id } = await ctx.container({ name, start: false });
    const createMs = performance.now() - t0;
    const t1 = performance.now();
    await ctx.engine.startContainer(id);
    const startMs = performance.now() - t1;
    ctx.sample("create", createMs);
    ctx.sample("start", startMs);
    const info = await ctx.engine.inspectContainer(id);
    check(info.State.Running, `container ${name} is not running after start`, {
      expected: "running",
      actual: info.State.Status,
    });
    checkEqual(familiarName(info.Config.Image), familiarName(ctx.image), "image");
    return {
      container: name,
      state: info.State.Status,
      createMs: Math.round(createMs),
      startMs: Math.round(startMs),
    };
  },
});

const gracefulStop = scenario("graceful-stop", {
  title: "A container that handles SIGTERM stops with exit 0, inside its grace period",
  quick: true,
  fault: relayFault(
    "the graceful stop reaches the daemon as a SIGKILL",
    /exit code after SIGTERM: expected 0, got 137/,
    [STOP_BECOMES_KILL],
  ),
  async run(ctx) {
    const { id, name } = await ctx.container();
    const t0 = performance.now();
    const { alreadyStopped } = await ctx.engine.stopContainer(id, GRACE_SECONDS);
    const stopMs = performance.now() - t0;
    ctx.sample("gracefulStop", stopMs);
    const info = await ctx.engine.inspectContainer(id);
    ctx.observe("stopMs", Math.round(stopMs));
    check(!alreadyStopped, `${name} was already stopped before the stop call`);
    // Exit 0 is the trap's: a kill after the grace period would be 137.
    checkEqual(info.State.ExitCode, 0, "exit code after SIGTERM");
    return { container: name, exitCode: info.State.ExitCode, graceSeconds: GRACE_SECONDS };
  },
});

const restart = scenario("restart", {
  title: "A stopped container starts again with its filesystem kept",
  fault: relayFault(
    "the second start is answered 204 but never reaches the daemon",
    /not running after the second start/,
    [{ method: "POST", path: /^\/containers\/[^/]+\/start/, after: 1, answer: { status: 204 } }],
  ),
  async run(ctx) {
    const { id } = await ctx.container();
    const first = await ctx.engine.inspectContainer(id);
    const wrote = await ctx.engine.exec(id, ["sh", "-c", "echo kept > /state"]);
    checkEqual(wrote.exitCode, 0, "writing /state");
    await ctx.time("stop", () => ctx.engine.stopContainer(id, GRACE_SECONDS));
    await ctx.time("start", () => ctx.engine.startContainer(id));
    const second = await ctx.engine.inspectContainer(id);
    check(second.State.Running, "container is not running after the second start", {
      actual: second.State.Status,
    });
    check(
      second.State.StartedAt !== first.State.StartedAt,
      "StartedAt did not change: the container did not restart",
      {
        actual: second.State.StartedAt,
      },
    );
    const read = await ctx.engine.exec(id, ["cat", "/state"]);
    checkEqual(read.stdout.trim(), "kept", "content of /state after restart");
    return {
      firstStartedAt: first.State.StartedAt,
      secondStartedAt: second.State.StartedAt,
      state: read.stdout.trim(),
    };
  },
});

const remove = scenario("remove", {
  title: "A removed container is gone from inspect and from the list",
  quick: true,
  fault: relayFault(
    "the daemon's container list still shows the removed container",
    /containers listed under the removed name: expected 0, got 1/,
    [
      {
        method: "GET",
        path: /^\/containers\/json\?.*filters=/,
        json: (list, req) => {
          const filters = JSON.parse(new URLSearchParams(req.path.split("?")[1]).get("filters") ?? "{}");
          const name = String(filters.name?.[0] ?? "ghost").replace(/^\^\/\?|\$$/g, "");
          return [...list, { Id: "0".repeat(64), Names: [`/${name}`], State: "running", Labels: {} }];
        },
      },
    ],
  ),
  async run(ctx) {
    const { id, name } = await ctx.container();
    const record = await safeRemove(ctx.engine, id);
    ctx.sample("safeRemove", record.totalMs);
    check((await ctx.engine.findContainer(id)) === undefined, `${name} can still be inspected after removal`);
    const listed = await ctx.engine.listContainers({ all: true, filters: { name: [name] } });
    checkEqual(listed.length, 0, "containers listed under the removed name");
    return { container: name, outcome: record.outcome, removeMs: Math.round(record.totalMs) };
  },
});

const names = scenario("names", {
  title: "A container gets the name it asked for, and the name resolves to its id",
  fault: relayFault("the daemon answers the name lookup with another container's name", /^name: expected/, [
    inspectRewrite((info) => {
      info.Name = "/someone-else";
    }),
  ]),
  async run(ctx) {
    const name = ctx.name("named");
    const { id } = await ctx.container({ name, start: false });
    const byName = await ctx.engine.inspectContainer(name);
    checkEqual(byName.Id, id, "id resolved from the name");
    checkEqual(byName.Name, `/${name}`, "name");
    const listed = await ctx.engine.listContainers({ all: true, filters: { name: [`^/?${name}$`] } });
    checkEqual(
      listed.map((c) => c.Id),
      [id],
      "containers listed by exact name",
    );
    return { name, id: id.slice(0, 12) };
  },
});

const labels = scenario("labels", {
  title: "Ownership labels (session, owner, created) are applied and select the container",
  quick: true,
  fault: relayFault("the daemon drops the session label from the container", /^berth\.session: expected/, [
    inspectRewrite((info) => {
      delete info.Config.Labels["berth.session"];
    }),
  ]),
  async run(ctx) {
    const { id } = await ctx.container({ start: false });
    const info = await ctx.engine.inspectContainer(id);
    const applied = info.Config.Labels ?? {};
    checkEqual(applied[LABELS.session], ctx.session.id, LABELS.session);
    checkEqual(parseOwner(applied[LABELS.owner])?.pid, process.pid, `${LABELS.owner} pid`);
    check(!Number.isNaN(Date.parse(applied[LABELS.created] ?? "")), `${LABELS.created} is not a timestamp`, {
      actual: applied[LABELS.created] ?? null,
    });
    const selected = await ctx.engine.listContainers({
      all: true,
      filters: { label: [`${LABELS.session}=${ctx.session.id}`, `${RUN_LABEL}=${ctx.runId}`] },
    });
    check(
      selected.some((c) => c.Id === id),
      "listing by session label did not find the container",
    );
    return {
      session: applied[LABELS.session] ?? null,
      owner: applied[LABELS.owner] ?? null,
      created: applied[LABELS.created] ?? null,
    };
  },
});

const exitCodes = scenario("exit-codes", {
  title: "Exit codes are reported exactly (0, 3, 42, and 137 for a kill)",
  quick: true,
  fault: relayFault(
    "the daemon reports exit code 0 for every container",
    /inspected exit code for exit (3|42): expected (3|42), got 0|exit code after SIGKILL/,
    [
      inspectRewrite((info) => {
        info.State.ExitCode = 0;
      }),
    ],
  ),
  async run(ctx) {
    const observed: Record<string, number> = {};
    await Promise.all(
      [0, 3, 42].map(async (code) => {
        const { id } = await ctx.container({ cmd: ["sh", "-c", `exit ${code}`] });
        const waited = await ctx.engine.waitContainer(id, "not-running");
        const info = await ctx.engine.inspectContainer(id);
        checkEqual(waited.StatusCode, code, `wait status for exit ${code}`);
        checkEqual(info.State.ExitCode, code, `inspected exit code for exit ${code}`);
        observed[`exit ${code}`] = info.State.ExitCode;
      }),
    );
    const { id } = await ctx.container({ cmd: ["sleep", "60"] });
    await ctx.engine.killContainer(id);
    await ctx.engine.waitContainer(id, "not-running");
    const killed = await ctx.engine.inspectContainer(id);
    checkEqual(killed.State.ExitCode, 137, "exit code after SIGKILL");
    observed.SIGKILL = killed.State.ExitCode;
    return observed;
  },
});

const logs = scenario("logs", {
  title: "A container's stdout and stderr are captured separately",
  fault: setupFault(
    "the container runs with a TTY, which merges stderr into stdout",
    /^std(out|err): expected/,
  ),
  async run(ctx) {
    const { id } = await ctx.container({
      cmd: ["sh", "-c", "echo to-stdout; echo to-stderr >&2"],
      ...(ctx.faulted ? { create: { Tty: true } } : {}),
    });
    await ctx.engine.waitContainer(id, "not-running");
    const output = await ctx.engine.containerLogs(id);
    checkEqual(output.stdout.trim(), "to-stdout", "stdout");
    checkEqual(output.stderr.trim(), "to-stderr", "stderr");
    return { stdout: output.stdout.trim(), stderr: output.stderr.trim() };
  },
});

const exec = scenario("exec", {
  title: "A command runs inside a running container with its output and exit code",
  quick: true,
  fault: relayFault("the daemon reports exit code 0 for every exec", /exec exit code: expected 5, got 0/, [
    { method: "GET", path: /^\/exec\/[^/]+\/json/, json: (info) => ({ ...info, ExitCode: 0 }) },
  ]),
  async run(ctx) {
    const { id } = await ctx.container({ create: { Env: ["BERTH_PROBE=present"], WorkingDir: "/tmp" } });
    const result = await ctx.engine.exec(id, ["sh", "-c", 'echo "$BERTH_PROBE in $(pwd)"; exit 5']);
    checkEqual(result.exitCode, 5, "exec exit code");
    checkEqual(result.stdout.trim(), "present in /tmp", "exec output (environment and working dir)");
    return { exitCode: result.exitCode, stdout: result.stdout.trim() };
  },
});

const timedCycles = scenario("timed-cycles", {
  title: "Sequential create, start and safe removal cycles (the latency baseline)",
  quick: true,
  exclusive: true,
  timeoutMs: 180_000,
  fault: relayFault(
    "every graceful stop reaches the daemon as a SIGKILL",
    /not every cycle ended with a graceful exit/,
    [STOP_BECOMES_KILL],
  ),
  async run(ctx) {
    // Up to `most` cycles within a time budget (at least 3), so a slow machine still finishes.
    // Under its fault, the first cycles already show the check failing.
    const most = ctx.quick || ctx.faulted ? 5 : 12;
    const budgetMs = ctx.quick ? 15_000 : 40_000;
    const began = performance.now();
    const outcomes: string[] = [];
    for (let i = 0; i < most && (i < 3 || performance.now() - began < budgetMs); i++) {
      const name = ctx.name("cycle");
      const t0 = performance.now();
      const { id } = await ctx.engine.createContainer({
        name,
        Image: ctx.image,
        Cmd: TRAPPING_LOOP,
        Labels: ctx.labels("cycle"),
      });
      ctx.defer(() => safeRemove(ctx.engine, id, { maxGraceSeconds: 2 }));
      const t1 = performance.now();
      await ctx.engine.startContainer(id);
      const t2 = performance.now();
      // Stop only once the trap is set, so the figure is a graceful stop and not a lost SIGTERM.
      await waitForOutput(ctx.engine, id, "ready", 30_000, ctx.signal);
      const record = await safeRemove(ctx.engine, id, { graceSeconds: GRACE_SECONDS });
      ctx.sample("create", t1 - t0);
      ctx.sample("start", t2 - t1);
      ctx.sample("safeRemove", record.totalMs);
      const stop = record.steps.find((s) => s.step === "stop");
      if (stop) ctx.sample("gracefulStop", stop.durationMs);
      // The trap exits 0: an exit 137 is a kill, whatever the outcome's name says.
      outcomes.push(record.exitCode === 0 ? record.outcome : `${record.outcome} (exit ${record.exitCode})`);
    }
    check(
      outcomes.every((o) => o === "exited"),
      "not every cycle ended with a graceful exit",
      {
        expected: "exited",
        actual: outcomes,
      },
    );
    return { cycles: outcomes.length, outcomes: [...new Set(outcomes)] };
  },
});

export const lifecycle: Category = {
  id: C,
  title: "Lifecycle",
  scenarios: [createStart, gracefulStop, restart, remove, names, labels, exitCodes, logs, exec, timedCycles],
};
