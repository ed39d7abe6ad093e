// The watch during a run, on the real daemon: a service OOM-killed and a service that exits
// non-zero in the middle of the run are reported at once by `berth run` (stderr line and end
// summary), by `berth up --watch`, and as events on the library's environment object; the
// environment's own teardown reports nothing.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { privateDaemonUnavailable, startPrivateDaemon } from "../../src/fixtures/private-daemon.js";
import { newSessionId } from "../../src/janitor/session.js";
import { type EnvironmentEvent, watchEnvironment } from "../../src/lifecycle/watch.js";
import { formatEventSummary } from "../../src/lifecycle/watch-report.js";
import { LABELS } from "../../src/model/labels.js";
import { up } from "../../src/stack/up.js";
import { berthProcess as berth, composeDir, projectResources } from "./stack-fixtures.js";
import { engine, fixtureImage, trappingCommand, waitForLine } from "./support.js";

const cli = join(process.cwd(), "bin", "berth.js");
const MiB = 1024 ** 2;

/**
 * Three services: `api` grows a shell variable past its 16 MiB limit, `worker` exits 3, both once
 * `/trigger/go` exists (the test or the command creates it); `db` runs until it is stopped.
 * `trigger` is a host directory bind-mounted at /trigger, or none (the test execs `touch /go`).
 */
function composeText(trigger: string | undefined): string {
  const go = trigger ? "/trigger/go" : "/go";
  const wait = `echo ready; while [ ! -e ${go} ]; do sleep 0.1; done`;
  const mount = trigger ? [`    volumes: [${JSON.stringify(`${trigger}:/trigger`)}]`] : [];
  return [
    "services:",
    "  api:",
    `    image: ${fixtureImage()}`,
    // `$$` is a literal `$` after Compose interpolation.
    `    command: ["sh", "-c", ${JSON.stringify(`${wait}; echo growing; x=a; while true; do x=$$x$$x; done`)}]`,
    "    mem_limit: 16m",
    "    stop_grace_period: 1s",
    ...mount,
    "  worker:",
    `    image: ${fixtureImage()}`,
    `    command: ["sh", "-c", ${JSON.stringify(`${wait}; echo worker gives up >&2; ${trigger ? "touch /trigger/worker-done; " : ""}exit 3`)}]`,
    "    mem_limit: 16m",
    "    stop_grace_period: 1s",
    ...mount,
    "  db:",
    `    image: ${fixtureImage()}`,
    `    command: ${JSON.stringify(trappingCommand())}`,
    "    mem_limit: 16m",
    "    stop_grace_period: 2s",
    "",
  ].join("\n");
}

/** Polls `probe` until it gives a value; on timeout the error carries `seen()` (the output so far). */
async function until<T>(
  probe: () => T | undefined | false,
  what: string,
  timeoutMs = 60_000,
  seen: () => string = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`not in ${timeoutMs / 1000} s: ${what}; output so far:\n${seen()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const OOM_LINE =
  /^berth: \d\d:\d\d:\d\dZ service `api` was killed by the kernel OOM killer at its 16 MiB limit$/m;
const EXIT_LINE = /^berth: \d\d:\d\d:\d\dZ service `worker` exited with code 3$/m;

/** `berth up -p PROJECT --watch` in `cwd`, once it says it is watching; its stderr and exit so far. */
async function startWatching(project: string, cwd: string) {
  const child = spawn(process.execPath, [cli, "up", "-p", project, "--watch"], {
    cwd,
    env: { ...process.env, CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const watcher = {
    child,
    stderr: "",
    exitCode: undefined as number | null | undefined,
    exited: undefined as unknown as Promise<number | null>,
  };
  child.stderr.on("data", (d: Buffer) => {
    watcher.stderr += d.toString();
  });
  watcher.exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      watcher.exitCode = code;
      resolve(code);
    }),
  );
  await until(
    () => watcher.stderr.includes(`berth: watching project ${project}`) || watcher.exitCode !== undefined,
    "watching",
    60_000,
    () => watcher.stderr,
  );
  expect(watcher.exitCode, watcher.stderr).toBeUndefined();
  return watcher;
}

describe("watching an environment while it runs", () => {
  it("berth run reports an OOM kill and a non-zero exit mid-run at once and in its summary, and not its own teardown", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    const project = `berth-test-watch-${newSessionId().slice(0, 6)}`;
    try {
      mkdirSync(join(dir.dir, "trigger"));
      dir.file("compose.yaml", composeText("./trigger"));
      const began = Date.now();
      const child = spawn(
        process.execPath,
        [
          cli,
          "run",
          "-p",
          project,
          "--",
          "sh",
          "-c",
          // Starts both failures, then runs on until the test has seen both reported (at most
          // 120 s: the suite's parallel phase can slow everything down), and marks its own end.
          'touch trigger/go; i=0; while [ ! -e trigger/seen ] && [ "$i" -lt 1200 ]; do sleep 0.1; i=$((i+1)); done; echo command-done >&2',
        ],
        { cwd: dir.dir, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      let ended = false;
      const exited = new Promise<number | null>((resolve) =>
        child.once("exit", (code) => {
          ended = true;
          resolve(code);
        }),
      );
      let reportedAfter: number | undefined;
      try {
        // Both lines, or berth run ended without them (the expectations below then show its stderr).
        await until(
          () => (OOM_LINE.test(stderr) && EXIT_LINE.test(stderr)) || ended,
          "both incident lines",
          150_000,
          () => stderr,
        );
        reportedAfter = (Date.now() - began) / 1000;
      } finally {
        writeFileSync(join(dir.dir, "trigger", "seen"), "");
      }
      const code = await exited;
      const seconds = (Date.now() - began) / 1000;
      expect(stderr).toMatch(OOM_LINE);
      expect(stderr).toMatch(EXIT_LINE);
      // The command's own exit code: the incidents are reported, not turned into a failure.
      expect(code, stderr).toBe(0);
      // At once: both lines come before the command's end, with the failing service's logs.
      const done = stderr.indexOf("command-done");
      expect(done).toBeGreaterThan(0);
      expect(stderr.search(OOM_LINE)).toBeLessThan(done);
      expect(stderr.search(EXIT_LINE)).toBeLessThan(done);
      expect(stderr).toMatch(/last \d+ log lines of [^\n]*api[^\n]*:\n {4}ready\n {4}growing/);
      expect(stderr).toContain("    worker gives up");
      // The summary ends the run, after down: both incidents, counted per service.
      const summary = stderr.slice(stderr.indexOf("berth: 2 service events during the run:"));
      expect(stderr.indexOf("berth: 2 service events during the run:")).toBeGreaterThan(done);
      expect(summary).toMatch(
        /error {4}service `api` was killed by the kernel OOM killer at its 16 MiB limit/,
      );
      expect(summary).toMatch(/error {4}service `worker` exited with code 3/);
      expect(summary).toMatch(/per service: (api 1, worker 1|worker 1, api 1)/);
      // The environment's own teardown (db stopped by down) is no incident.
      expect(stderr).not.toContain("`db`");
      expect(stderr).not.toContain("stopped through the API");
      expect(await projectResources(project)).toEqual([]);
      console.log(
        `berth run: both incidents on stderr ${reportedAfter?.toFixed(1)}s after start, run ${seconds.toFixed(1)}s`,
      );
    } finally {
      dir.remove();
    }
  });

  it("the library's environment fires an incident event for each, and down stops watching first", {
    timeout: 180_000,
  }, async () => {
    const dir = composeDir();
    const project = `berth-test-watch-${newSessionId().slice(0, 6)}`;
    try {
      const file = dir.file("compose.yaml", composeText(undefined));
      const fromOption: EnvironmentEvent[] = [];
      const env = await up({ files: [file], project, engine, onIncident: (e) => fromOption.push(e) });
      const events: EnvironmentEvent[] = [];
      // From the daemon's event time to the listener call (inspect and logs are fetched between).
      const lags: string[] = [];
      let off: () => void = () => false;
      try {
        expect(env.watching).toBe(true);
        off = env.onIncident((e) => {
          events.push(e);
          lags.push(`${e.service} ${Date.now() - e.time.getTime()} ms`);
        });
        await Promise.all([env.exec("api", ["touch", "/go"]), env.exec("worker", ["touch", "/go"])]);
        await until(
          () => events.length >= 2,
          "two incidents",
          60_000,
          () => JSON.stringify(events),
        );
      } finally {
        await env.down();
        off();
      }
      expect(env.watching).toBe(false);
      const byService = Object.fromEntries(events.map((e) => [e.service, e]));
      expect(byService.api).toMatchObject({
        kind: "oom-killed",
        severity: "error",
        project,
        exitCode: 137,
        limitBytes: 16 * MiB,
        message: "service `api` was killed by the kernel OOM killer at its 16 MiB limit",
      });
      expect(byService.api!.logsTail).toEqual(["ready", "growing"]);
      expect(byService.worker).toMatchObject({
        kind: "exited",
        severity: "error",
        exitCode: 3,
        message: "service `worker` exited with code 3",
      });
      expect(byService.worker!.logsTail).toEqual(["ready", "worker gives up"]);
      // The list holds the same, the up option saw the same, and down added nothing (no `db`).
      expect(env.incidents.map((e) => e.service).sort()).toEqual(["api", "worker"]);
      expect(fromOption).toEqual(env.incidents);
      expect(events).toHaveLength(2);
      console.log(`incident reported after the death: ${lags.join(", ")}`);
      expect(await projectResources(project)).toEqual([]);
    } finally {
      dir.remove();
    }
  });

  it("a one-shot service's completion is no incident; a stop by someone else is an informational one", {
    timeout: 180_000,
  }, async () => {
    const dir = composeDir();
    const project = `berth-test-watch-${newSessionId().slice(0, 6)}`;
    try {
      const file = dir.file(
        "compose.yaml",
        [
          "services:",
          "  migrate:",
          `    image: ${fixtureImage()}`,
          '    command: ["true"]',
          "  app:",
          `    image: ${fixtureImage()}`,
          `    command: ${JSON.stringify(trappingCommand())}`,
          "    stop_grace_period: 2s",
          "    depends_on:",
          "      migrate: { condition: service_completed_successfully }",
          "",
        ].join("\n"),
      );
      const env = await up({ files: [file], project, engine });
      try {
        expect(env.service("migrate").state).toBe("completed");
        await waitForLine(env.service("app").containerId);
        await engine.stopContainer(env.service("app").containerId, 5);
        await until(
          () => env.incidents.length >= 1,
          "the stop",
          60_000,
          () => JSON.stringify(env.incidents),
        );
      } finally {
        await env.down();
      }
      expect(env.incidents).toHaveLength(1);
      expect(env.incidents[0]).toMatchObject({
        service: "app",
        kind: "stopped",
        severity: "info",
        exitCode: 0,
      });
      expect(formatEventSummary(env.incidents)).toBe(
        "berth: no service died, was OOM-killed or turned unhealthy during the run",
      );
    } finally {
      dir.remove();
    }
  });

  it("berth up --watch reports in the foreground and Ctrl-C stops watching, leaving the environment up", {
    timeout: 180_000,
  }, async () => {
    const dir = composeDir();
    const project = `berth-test-watch-${newSessionId().slice(0, 6)}`;
    try {
      dir.file("compose.yaml", composeText(undefined));
      const watcher = await startWatching(project, dir.dir);
      const { child, exited } = watcher;
      try {
        const api = await engine.listContainers({
          filters: { label: [`${LABELS.project}=${project}`, `${LABELS.service}=api`] },
        });
        expect(api).toHaveLength(1);
        await engine.exec(api[0]!.Id, ["touch", "/go"]);
        await until(
          () => OOM_LINE.test(watcher.stderr),
          "the OOM line",
          60_000,
          () => watcher.stderr,
        );
        child.kill("SIGINT");
        // A service failed while watched: exit 1; the environment stays up.
        expect(await exited, watcher.stderr).toBe(1);
        expect(watcher.stderr).toContain(`SIGINT: stopped watching; project ${project} stays up`);
        expect(watcher.stderr).toMatch(
          /berth: 1 service event during the run:\n.*OOM killer at its 16 MiB limit\n {2}per service: api 1/,
        );
        const running = await engine.listContainers({
          all: false,
          filters: { label: [`${LABELS.project}=${project}`] },
        });
        expect(running.map((c) => c.Labels[LABELS.service]).sort()).toEqual(["db", "worker"]);
      } finally {
        if (watcher.exitCode === undefined) {
          child.kill("SIGTERM");
          await exited;
        }
        const down = await berth(["down", "-p", project], dir.dir);
        expect(down.code ?? 0, down.stderr).toBe(0);
      }
      expect(await projectResources(project)).toEqual([]);
    } finally {
      dir.remove();
    }
  });

  it("berth up --watch ends by itself once the environment is taken down from elsewhere", {
    timeout: 180_000,
  }, async () => {
    const dir = composeDir();
    const project = `berth-test-watch-${newSessionId().slice(0, 6)}`;
    try {
      dir.file(
        "compose.yaml",
        [
          "services:",
          "  db:",
          `    image: ${fixtureImage()}`,
          `    command: ${JSON.stringify(trappingCommand())}`,
          "    stop_grace_period: 2s",
          "",
        ].join("\n"),
      );
      const watcher = await startWatching(project, dir.dir);
      const { child, exited } = watcher;
      try {
        const down = await berth(["down", "-p", project], dir.dir);
        expect(down.code ?? 0, down.stderr).toBe(0);
        // A stop through the API is no failure: exit 0, with the reason and a clean summary.
        expect(await exited, watcher.stderr).toBe(0);
        expect(watcher.stderr).toMatch(/service `db` was stopped through the API/);
        expect(watcher.stderr).toContain(
          `no container of project ${project} runs any longer; stopped watching`,
        );
        expect(watcher.stderr).toContain(
          "berth: no service died, was OOM-killed or turned unhealthy during the run",
        );
      } finally {
        if (watcher.exitCode === undefined) {
          child.kill("SIGTERM");
          await exited;
          await berth(["down", "-p", project], dir.dir);
        }
      }
      expect(await projectResources(project)).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});

describe.skipIf(privateDaemonUnavailable() !== undefined)("when the daemon goes away", () => {
  it("the watcher reports that it no longer watches, rather than falling silent", {
    timeout: 120_000,
  }, async () => {
    const daemon = await startPrivateDaemon();
    const errors: unknown[] = [];
    let stopped = false;
    const watcher = watchEnvironment(daemon.engine, {
      project: "berth-test-watch-gone",
      onError: (error) => errors.push(error),
    });
    try {
      // The stream is open once the daemon has answered a call made after the watch began.
      await daemon.engine.ping();
      await new Promise((r) => setTimeout(r, 500));
      expect(errors).toEqual([]);
      await daemon.stop();
      stopped = true;
      await until(
        () => errors.length > 0,
        "the watch error",
        30_000,
        () => daemon.logTail(20),
      );
      expect((errors[0] as Error).message).toMatch(
        /daemon closed its event stream|Connection to the Docker daemon failed during system.events/,
      );
    } finally {
      await watcher.stop();
      if (!stopped) await daemon.stop();
    }
  });
});
