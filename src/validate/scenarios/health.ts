// Health: an environment comes up only when its services are ready, by their Docker healthcheck
// (healthy, unhealthy, slow start) or by each of berth's wait strategies (port, log line, HTTP
// status, command), and a dependency waits for the service it depends on to be healthy.
import { busyboxWebServer } from "../../fixtures/busybox.js";
import { HealthTimeoutError, UnhealthyError } from "../../lifecycle/service-errors.js";
import type { RelayRule } from "../answer-relay.js";
import { inspectRewrite } from "../faults.js";
import type { Category, Scenario } from "../scenario.js";
import { check, checkEqual, relayFault, scenarioIn, setupFault } from "../scenario.js";
import { checkNothingLeft, composeFile, firstLine, upCompose, upFails } from "./stack-support.js";

const C = "health";
const scenario = scenarioIn(C);

/** A busybox web server on 8080 that serves /health once `delay` seconds have passed. */
function webServer(delaySeconds: number): string {
  return JSON.stringify([
    "sh",
    "-c",
    busyboxWebServer(`mkdir -p /www; sleep ${delaySeconds}; echo ok > /www/health`),
  ]);
}

const healthy = scenario("healthy", {
  title: "A service is ready once its healthcheck reports healthy",
  quick: true,
  fault: relayFault("the daemon reports the service's health as `unhealthy`", /unhealthy/i, [
    inspectRewrite((info) => {
      if (info.State.Health) info.State.Health.Status = "unhealthy";
    }),
  ]),
  async run(ctx) {
    const run = composeFile(
      ctx,
      "healthy",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "sleep 1; touch /ready; trap 'exit 0' TERM; sleep 3600 & wait"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/ready"]\n      interval: 200ms\n      timeout: 10s\n      retries: 30\n`,
    );
    const env = await upCompose(ctx, run);
    const info = await ctx.engine.inspectContainer(env.service("app").containerId);
    const status = (info.State as { Health?: { Status?: string } }).Health?.Status ?? null;
    // berth runs the healthcheck's own test as soon as the container starts, so up may return
    // before Docker's first scheduled probe: `starting` then, never `unhealthy`.
    check(status === "healthy" || status === "starting", `health status when up returned: ${status}`, {
      expected: "healthy (or starting before Docker's first probe)",
      actual: status,
    });
    const readyMs = env.service("app").readyMs;
    return { health: status, readyMs: Math.round(readyMs) };
  },
});

const unhealthy = scenario("unhealthy", {
  title: "An unhealthy service fails up with its probe's output, and nothing is left",
  quick: true,
  fault: setupFault(
    "the healthcheck passes, so nothing is unhealthy",
    /up of an unhealthy service: expected an error, but the call succeeded/,
  ),
  async run(ctx) {
    const run = composeFile(
      ctx,
      "unhealthy",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n    healthcheck:\n      test: ["CMD-SHELL", "echo probe-says-no; exit ${ctx.faulted ? 0 : 1}"]\n      interval: 200ms\n      timeout: 10s\n      retries: 2\n`,
    );
    const error = await upFails(ctx, run, "up of an unhealthy service");
    check(error instanceof UnhealthyError, `up failed, but not as unhealthy: ${firstLine(error)}`, {
      expected: "UnhealthyError",
      actual: (error as Error).name,
    });
    check((error as Error).message.includes("probe-says-no"), "the error does not show the probe's output", {
      actual: (error as Error).message.slice(0, 300),
    });
    await checkNothingLeft(ctx, run.project);
    return { error: (error as UnhealthyError).code, summary: (error as UnhealthyError).summary };
  },
});

const slowStart = scenario("slow-start", {
  title: "A slow starter within its start_period is not failed early",
  fault: setupFault("the healthcheck has no start_period, so the early failing probes count", /unhealthy/i),
  async run(ctx) {
    // Failing probes during the first 2.5 s do not count: start_period is 20 s, retries only 1.
    const run = composeFile(
      ctx,
      "slow",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "sleep 2.5; touch /ready; trap 'exit 0' TERM; sleep 3600 & wait"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/ready"]\n      interval: 300ms\n      timeout: 10s\n      retries: 1\n${ctx.faulted ? "" : "      start_period: 20s\n"}`,
    );
    const env = await upCompose(ctx, run);
    const readyMs = env.service("app").readyMs;
    // With retries 1, any probe counted before the server was ready would have failed `up`.
    const info = await ctx.engine.inspectContainer(env.service("app").containerId);
    const status = (info.State as { Health?: { Status?: string } }).Health?.Status ?? null;
    check(status === "healthy" || status === "starting", `health status when up returned: ${status}`, {
      expected: "healthy (or starting before Docker's first probe)",
      actual: status,
    });
    return { readyMs: Math.round(readyMs), startPeriod: "20s", retries: 1 };
  },
});

/** A server that misbehaves: it serves (and says `serving`) at once, and has /health 8 s later. */
const EARLY_SERVER = JSON.stringify([
  "sh",
  "-c",
  "mkdir -p /www; httpd -p 8080 -h /www; echo serving; sleep 8; echo ok > /www/health; trap 'exit 0' TERM; sleep 3600 & wait",
]);

interface WaitFault {
  describe: string;
  /** Relay rules (a `relay` fault), or the fixture and wait the `setup` fault uses. */
  rules?: RelayRule[];
  command?: string;
  wait?: string;
}

function waitScenario(
  kind: string,
  title: string,
  wait: string,
  check_: (
    ctx: Parameters<Scenario["run"]>[0],
    env: Awaited<ReturnType<typeof upCompose>>,
  ) => Promise<Record<string, string | number | boolean>>,
  broken: WaitFault,
  quick = false,
): Scenario {
  const expect = /GET http:\S+\/health: expected 200, got 404|fetch failed/;
  const fault = broken.rules
    ? relayFault(broken.describe, expect, broken.rules)
    : setupFault(broken.describe, expect);
  return scenario(`wait-${kind}`, {
    title,
    quick,
    fault,
    async run(ctx) {
      const command = ctx.faulted && broken.command ? broken.command : webServer(1);
      const strategy = ctx.faulted && broken.wait ? broken.wait : wait;
      const run = composeFile(
        ctx,
        `wait-${kind}`,
        `services:\n  web:\n    image: __IMAGE__\n    command: ${command}\n    ports: ["8080"]\n    x-berth:\n      wait:\n        - ${strategy}\n`,
      );
      const env = await upCompose(ctx, run);
      // The server answers only after its 1 s start: it must answer at once when up returns.
      const readyMs = env.service("web").readyMs;
      return { wait, readyMs: Math.round(readyMs), ...(await check_(ctx, env)) };
    },
  });
}

const servesHealth = async (_ctx: unknown, env: Awaited<ReturnType<typeof upCompose>>) => {
  const url = env.url("web", 8080, "/health");
  const response = await fetch(url);
  checkEqual(response.status, 200, `GET ${url}`);
  return { endpoint: env.endpoint("web", 8080).address, status: response.status };
};

const waitPort = waitScenario(
  "port",
  "Wait strategy port: ready once the published port accepts connections",
  "port: 8080",
  servesHealth,
  { describe: "the server listens before it is ready (its /health comes 8 s later)", command: EARLY_SERVER },
  true,
);
const waitLog = waitScenario(
  "log",
  "Wait strategy log: ready once the log line appears",
  "log: serving",
  servesHealth,
  {
    describe: "the server says `serving` before it is ready (its /health comes 8 s later)",
    command: EARLY_SERVER,
  },
);
const waitHttp = waitScenario(
  "http",
  "Wait strategy HTTP: ready once the endpoint answers 200",
  "http: { port: 8080, path: /health, status: 200 }",
  servesHealth,
  {
    describe: "berth configured to wait for status 404, which the server answers before it is ready",
    command: EARLY_SERVER,
    wait: "http: { port: 8080, path: /health, status: 404 }",
  },
  true,
);
const waitCommand = waitScenario(
  "command",
  "Wait strategy command: ready once a command exits 0 inside",
  'command: "test -f /www/health"',
  servesHealth,
  {
    describe: "the daemon reports exit 0 for every exec, so the command passes before the server (8 s) is up",
    command: JSON.stringify(["sh", "-c", busyboxWebServer("mkdir -p /www; sleep 8; echo ok > /www/health")]),
    rules: [{ method: "GET", path: /^\/exec\/[^/]+\/json/, json: (info) => ({ ...info, ExitCode: 0 }) }],
  },
);

const dependsOnHealthy = scenario("depends-on-healthy", {
  title: "A service that depends on another's health starts only after it is healthy",
  fault: relayFault(
    "the daemon's health log dates db's passing probes an hour late",
    /api started before db's first passing health probe/,
    [
      inspectRewrite((info) => {
        for (const entry of info.State.Health?.Log ?? []) {
          entry.Start = new Date(Date.parse(entry.Start) + 3_600_000).toISOString();
        }
      }),
    ],
  ),
  async run(ctx) {
    const run = composeFile(
      ctx,
      "chain",
      `services:\n  db:\n    image: __IMAGE__\n    command: ["sh", "-c", "sleep 1; touch /ready; trap 'exit 0' TERM; sleep 3600 & wait"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/ready"]\n      interval: 200ms\n      retries: 30\n  api:\n    image: __IMAGE__\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n    depends_on:\n      db:\n        condition: service_healthy\n`,
    );
    const env = await upCompose(ctx, run);
    const db = await ctx.engine.inspectContainer(env.service("db").containerId);
    const api = await ctx.engine.inspectContainer(env.service("api").containerId);
    const log = (db.State as { Health?: { Log?: { Start: string; ExitCode: number }[] } }).Health?.Log ?? [];
    const firstHealthy = log.find((entry) => entry.ExitCode === 0)?.Start;
    check(firstHealthy, "the db's health log has no passing probe");
    const apiStarted = Date.parse(api.State.StartedAt);
    check(apiStarted >= Date.parse(firstHealthy), "api started before db's first passing health probe", {
      expected: `after ${firstHealthy}`,
      actual: api.State.StartedAt,
    });
    return { dbFirstHealthyProbe: firstHealthy, apiStartedAt: api.State.StartedAt };
  },
});

const readinessTimeout = scenario("timeout", {
  title: "A service that never becomes ready fails up at its timeout, and nothing is left",
  fault: setupFault(
    "the service's own 3 s timeout is dropped, so up waits for berth's 30 s default",
    /up failed after [\d.]+ s of waiting, not at the service's 3 s timeout/,
  ),
  async run(ctx) {
    const run = composeFile(
      ctx,
      "never",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "echo still-starting; trap 'exit 0' TERM; sleep 3600 & wait"]\n    x-berth:\n${ctx.faulted ? "" : "      timeout: 3s\n"}      wait:\n        - command: "test -f /tmp/never"\n`,
    );
    // Timed from the moment berth starts waiting for the service to the moment it gives up, so
    // creating, starting and the rollback (slow on a busy machine) are not counted.
    let waitingAt: number | undefined;
    let failedAt: number | undefined;
    const error = await upFails(ctx, run, "up of a service that is never ready", {
      onProgress: (event) => {
        if (event.type !== "service" || event.service !== "app") return;
        if (event.phase === "waiting") waitingAt ??= performance.now();
        if (event.phase === "failed") failedAt ??= performance.now();
      },
    });
    const tookMs = waitingAt !== undefined && failedAt !== undefined ? failedAt - waitingAt : Number.NaN;
    check(
      error instanceof HealthTimeoutError,
      `up failed, but not with a readiness timeout: ${firstLine(error)}`,
      {
        expected: "HealthTimeoutError",
        actual: (error as Error).name,
      },
    );
    check(
      (error as Error).message.includes("still-starting"),
      "the error does not show the service's last log lines",
      {
        actual: (error as Error).message.slice(0, 300),
      },
    );
    // The failure comes at the service's 3 s, not at berth's 30 s default; a busy machine may
    // make the last probe late by some seconds, never by 27.
    check(
      tookMs >= 2_900 && tookMs < 10_000,
      `up failed after ${(tookMs / 1000).toFixed(1)} s of waiting, not at the service's 3 s timeout`,
      { expected: "3 s of waiting (at most 10 s)", actual: `${Math.round(tookMs)} ms` },
    );
    await checkNothingLeft(ctx, run.project);
    return {
      error: (error as HealthTimeoutError).code,
      summary: (error as HealthTimeoutError).summary,
      tookMs: Math.round(tookMs),
    };
  },
});

export const health: Category = {
  id: C,
  title: "Health and readiness",
  scenarios: [
    healthy,
    unhealthy,
    slowStart,
    waitPort,
    waitLog,
    waitHttp,
    waitCommand,
    dependsOnHealthy,
    readinessTimeout,
  ],
};
