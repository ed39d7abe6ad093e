// Conflicts: what a name or a port already in use does to `up`. A dead run's leftover is cleared
// safely; anything live or foreign is left alone and reported with who holds the name or port;
// parallel projects from one file never collide.
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { hostname } from "node:os";
import type { ContainerCreateSpec } from "../../engine/types.js";
import { NameConflictError } from "../../lifecycle/create-container.js";
import { PortTakenError } from "../../lifecycle/host-ports.js";
import { sessionLabels } from "../../model/labels.js";
import { containerNameFor } from "../../stack/naming.js";
import { inspectRewrite } from "../faults.js";
import { RUN_LABEL } from "../run-scope.js";
import type { Category, Scenario, ScenarioContext } from "../scenario.js";
import { check, checkEqual, relayFault, scenarioIn, setupFault } from "../scenario.js";
import { checkNothingLeft, composeFile, firstLine, upCompose, upFails } from "./stack-support.js";

const C = "conflicts";
const scenario = scenarioIn(C);
const APP = `services:\n  app:\n    image: __IMAGE__\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n`;

/** The pid of a process that has certainly exited. */
export function deadPid(): number {
  return spawnSync("true").pid ?? 999_999;
}

/** Labels of a berth session whose owner process is dead, plus this run's label. */
function deadSessionLabels(ctx: ScenarioContext, project: string, service: string): Record<string, string> {
  return {
    ...sessionLabels({
      session: `dead${ctx.runId}`,
      project,
      service,
      owner: { host: hostname(), pid: deadPid(), startTime: "1" },
    }),
    [RUN_LABEL]: ctx.runId,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const leftoverCleared = scenario("dead-leftover-cleared", {
  title: "A leftover container of a dead run holding the name is removed safely, and up succeeds",
  quick: true,
  fault: setupFault(
    "the leftover belongs to a live run, so it must not be cleared",
    /is (already )?(in use|held)|name conflict|live/i,
  ),
  async run(ctx) {
    const run = composeFile(ctx, "leftover", APP);
    const name = containerNameFor(run.project, "app");
    const owner = ctx.faulted ? ctx.labels("app") : deadSessionLabels(ctx, run.project, "app");
    const leftover = await ctx.container({ name, labels: owner });
    const env = await upCompose(ctx, run);
    const now = env.service("app");
    check(now.containerId !== leftover.id, "up adopted the dead run's container instead of replacing it");
    check((await ctx.engine.findContainer(leftover.id)) === undefined, "the leftover container still exists");
    checkEqual(now.containerName, name, "name of the new container");
    return { name, leftover: leftover.id.slice(0, 12), replacement: now.containerId.slice(0, 12) };
  },
});

function holderScenario(kind: "foreign" | "live", title: string): Scenario {
  return scenario(`${kind}-name-kept`, {
    title,
    quick: kind === "foreign",
    fault: setupFault(
      "the holder belongs to a dead run, so berth may clear it and up succeeds",
      /expected an error, but the call succeeded/,
    ),
    async run(ctx) {
      const run = composeFile(ctx, kind, APP);
      const name = containerNameFor(run.project, "app");
      // A foreign container carries only the run label (so the sweep still finds it); a live one is ours.
      const labels = ctx.faulted
        ? deadSessionLabels(ctx, run.project, "app")
        : kind === "foreign"
          ? { [RUN_LABEL]: ctx.runId }
          : ctx.labels("app");
      const holder = await ctx.container({ name, labels });
      const error = await upFails(ctx, run, `up while ${name} is held by a ${kind} container`);
      check(
        error instanceof NameConflictError,
        `up failed, but not with a name conflict: ${firstLine(error)}`,
        {
          expected: "NameConflictError",
          actual: (error as Error).name,
        },
      );
      const conflict = error as NameConflictError;
      check(
        conflict.holder.includes(holder.id.slice(0, 12)),
        "the error does not name the container holding the name",
        {
          actual: conflict.message,
        },
      );
      const still = await ctx.engine.findContainer(holder.id);
      check(still?.State.Running, `the ${kind} container holding the name was touched`, {
        actual: still?.State.Status ?? "removed",
      });
      return { name, message: conflict.message, hint: conflict.hint ?? null, holderUntouched: true };
    },
  });
}

const portTaken = scenario("port-taken", {
  title: "A fixed host port that is taken fails up naming the port and the container that holds it",
  quick: true,
  fault: setupFault(
    "the holder publishes another port, so the port is free",
    /up with host port \d+ taken: expected an error, but the call succeeded/,
  ),
  async run(ctx) {
    const port = await freePort();
    const holder = await ctx.container({
      cmd: ["httpd", "-f", "-p", "8080"],
      create: {
        ExposedPorts: { "8080/tcp": {} },
        HostConfig: {
          PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(ctx.faulted ? 0 : port) }] },
        },
      } as Partial<ContainerCreateSpec>,
    });
    const run = composeFile(
      ctx,
      "port",
      `services:\n  web:\n    image: __IMAGE__\n    command: ["httpd", "-f", "-p", "8080"]\n    ports: ["127.0.0.1:${port}:8080"]\n`,
    );
    const error = await upFails(ctx, run, `up with host port ${port} taken`);
    check(error instanceof PortTakenError, `up failed, but not with a port conflict: ${firstLine(error)}`, {
      expected: "PortTakenError",
      actual: (error as Error).name,
    });
    const taken = error as PortTakenError;
    checkEqual(taken.port, port, "port named");
    check(taken.holder?.includes(holder.name), "the error does not name the container holding the port", {
      actual: taken.message,
    });
    await checkNothingLeft(ctx, run.project);
    return { port, message: taken.message };
  },
});

const parallelProjects = scenario("parallel-projects", {
  title: "The same file up twice at once gives two isolated projects (own networks, own ports)",
  fault: relayFault(
    "the daemon reports both projects' containers on one shared network",
    /the two projects share a network/,
    [
      inspectRewrite((info) => {
        const nets = info.NetworkSettings?.Networks ?? {};
        const first = Object.values(nets)[0];
        if (first) info.NetworkSettings.Networks = { "berth-fault-shared": first };
      }),
    ],
  ),
  async run(ctx) {
    const yaml = `services:\n  web:\n    image: __IMAGE__\n    command: ["sh", "-c", "mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www"]\n    ports: ["8080"]\n    x-berth:\n      wait:\n        - port: 8080\n`;
    const [a, b] = [composeFile(ctx, "twin-a", yaml), composeFile(ctx, "twin-b", yaml)];
    const [envA, envB] = await Promise.all([upCompose(ctx, a), upCompose(ctx, b)]);
    const [addrA, addrB] = [envA.endpoint("web", 8080).address, envB.endpoint("web", 8080).address];
    check(addrA !== addrB, `both projects got the same host address ${addrA}`);
    const [infoA, infoB] = await Promise.all([
      ctx.engine.inspectContainer(envA.service("web").containerId),
      ctx.engine.inspectContainer(envB.service("web").containerId),
    ]);
    const netsA = Object.keys(infoA.NetworkSettings.Networks);
    const netsB = Object.keys(infoB.NetworkSettings.Networks);
    check(!netsA.some((n) => netsB.includes(n)), "the two projects share a network", {
      actual: [...netsA, ...netsB],
    });
    for (const env of [envA, envB]) {
      const response = await fetch(env.url("web", 8080, "/"));
      checkEqual(response.status, 200, `GET ${env.url("web", 8080, "/")}`);
    }
    return {
      projectA: `${a.project} -> ${addrA} on ${netsA.join(",")}`,
      projectB: `${b.project} -> ${addrB} on ${netsB.join(",")}`,
    };
  },
});

export const conflicts: Category = {
  id: C,
  title: "Conflicts",
  scenarios: [
    leftoverCleared,
    holderScenario(
      "foreign",
      "A name held by a container berth did not create is reported with its holder, and left alone",
    ),
    holderScenario("live", "A name held by a live berth session is reported, and that session is left alone"),
    portTaken,
    parallelProjects,
  ],
};
