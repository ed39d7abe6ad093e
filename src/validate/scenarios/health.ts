// Health: an environment comes up only when its services are ready, by their Docker healthcheck
// (healthy, unhealthy, slow start) or by each of berth's wait strategies (port, log line, HTTP
// status, command), and a dependency waits for the service it depends on to be healthy.
import { busyboxWebServer } from "../../fixtures/busybox.js";
import { HealthTimeoutError, UnhealthyError } from "../../lifecycle/service-errors.js";
import { type Category, check, checkEqual, type Scenario } from "../scenario.js";
import { checkNothingLeft, composeFile, firstLine, upCompose, upFails } from "./stack-support.js";

const C = "health";

/** A busybox web server on 8080 that serves /health once `delay` seconds have passed. */
function webServer(delaySeconds: number): string {
  return JSON.stringify([
    "sh",
    "-c",
    busyboxWebServer(`mkdir -p /www; sleep ${delaySeconds}; echo ok > /www/health`),
  ]);
}

const healthy: Scenario = {
  id: `${C}.healthy`,
  category: C,
  title: "A service is ready once its healthcheck reports healthy",
  quick: true,
  async run(ctx) {
    const run = composeFile(
      ctx,
      "healthy",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "sleep 1; touch /ready; trap 'exit 0' TERM; sleep 3600 & wait"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/ready"]\n      interval: 200ms\n      timeout: 10s\n      retries: 30\n`,
    );
    const env = await upCompose(ctx, run);
    const info = await ctx.engine.inspectContainer(env.service("app").containerId);
    const status = (info.State as { Health?: { Status?: string } }).Health?.Status ?? null;
    checkEqual(status, "healthy", "health status when up returned");
    const readyMs = env.service("app").readyMs;
    return { health: status, readyMs: Math.round(readyMs) };
  },
};

const unhealthy: Scenario = {
  id: `${C}.unhealthy`,
  category: C,
  title: "An unhealthy service fails up with its probe's output, and nothing is left",
  quick: true,
  async run(ctx) {
    const run = composeFile(
      ctx,
      "unhealthy",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n    healthcheck:\n      test: ["CMD-SHELL", "echo probe-says-no; exit 1"]\n      interval: 200ms\n      timeout: 10s\n      retries: 2\n`,
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
};

const slowStart: Scenario = {
  id: `${C}.slow-start`,
  category: C,
  title: "A slow starter within its start_period is not failed early",
  async run(ctx) {
    // Failing probes during the first 2.5 s do not count: start_period is 20 s, retries only 1.
    const run = composeFile(
      ctx,
      "slow",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "sleep 2.5; touch /ready; trap 'exit 0' TERM; sleep 3600 & wait"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/ready"]\n      interval: 300ms\n      timeout: 10s\n      retries: 1\n      start_period: 20s\n`,
    );
    const env = await upCompose(ctx, run);
    const readyMs = env.service("app").readyMs;
    // With retries 1, any probe counted before the server was ready would have failed `up`.
    const info = await ctx.engine.inspectContainer(env.service("app").containerId);
    checkEqual(
      (info.State as { Health?: { Status?: string } }).Health?.Status ?? null,
      "healthy",
      "health status when up returned",
    );
    return { readyMs: Math.round(readyMs), startPeriod: "20s", retries: 1 };
  },
};

function waitScenario(
  kind: string,
  title: string,
  wait: string,
  check_: (
    ctx: Parameters<Scenario["run"]>[0],
    env: Awaited<ReturnType<typeof upCompose>>,
  ) => Promise<Record<string, string | number | boolean>>,
  quick = false,
): Scenario {
  return {
    id: `${C}.wait-${kind}`,
    category: C,
    title,
    quick,
    async run(ctx) {
      const run = composeFile(
        ctx,
        `wait-${kind}`,
        `services:\n  web:\n    image: __IMAGE__\n    command: ${webServer(1)}\n    ports: ["8080"]\n    x-berth:\n      wait:\n        - ${wait}\n`,
      );
      const env = await upCompose(ctx, run);
      // The server answers only after its 1 s start: it must answer at once when up returns.
      const readyMs = env.service("web").readyMs;
      return { wait, readyMs: Math.round(readyMs), ...(await check_(ctx, env)) };
    },
  };
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
  true,
);
const waitLog = waitScenario(
  "log",
  "Wait strategy log: ready once the log line appears",
  "log: serving",
  servesHealth,
);
const waitHttp = waitScenario(
  "http",
  "Wait strategy HTTP: ready once the endpoint answers 200",
  "http: { port: 8080, path: /health, status: 200 }",
  servesHealth,
  true,
);
const waitCommand = waitScenario(
  "command",
  "Wait strategy command: ready once a command exits 0 inside",
  'command: "test -f /www/health"',
  servesHealth,
);

const dependsOnHealthy: Scenario = {
  id: `${C}.depends-on-healthy`,
  category: C,
  title: "A service that depends on another's health starts only after it is healthy",
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
};

const readinessTimeout: Scenario = {
  id: `${C}.timeout`,
  category: C,
  title: "A service that never becomes ready fails up at its timeout, and nothing is left",
  async run(ctx) {
    const run = composeFile(
      ctx,
      "never",
      `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "echo still-starting; trap 'exit 0' TERM; sleep 3600 & wait"]\n    x-berth:\n      timeout: 3s\n      wait:\n        - command: "test -f /tmp/never"\n`,
    );
    const began = performance.now();
    const error = await upFails(ctx, run, "up of a service that is never ready");
    const tookMs = performance.now() - began;
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
    await checkNothingLeft(ctx, run.project);
    return {
      error: (error as HealthTimeoutError).code,
      summary: (error as HealthTimeoutError).summary,
      tookMs: Math.round(tookMs),
    };
  },
};

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
