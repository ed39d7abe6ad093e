// Proxy: berth's Docker API socket in front of the daemon, used by a real client (the docker
// CLI): commands work through it, `docker rm -f` becomes a graceful removal, a policy denial
// reaches the CLI as a clear 403, and parallel lifecycles stay within the shared limit.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../engine/engine.js";
import type { ContainerCreateSpec } from "../../engine/types.js";
import { safeRemove } from "../../lifecycle/safe-remove.js";
import type { ProxyOptions, RunningProxy } from "../../proxy/server.js";
import { startProxy } from "../../proxy/server.js";
import { startAnswerRelay } from "../answer-relay.js";
import { GRACE_SECONDS, TRAPPING_LOOP, waitForOutput } from "../run-scope.js";
import type { Category, ScenarioContext } from "../scenario.js";
import { check, checkEqual, relayFault, ScenarioSkipped, scenarioIn, setupFault } from "../scenario.js";
import { proxyBadInput } from "./proxy-input.js";

const C = "proxy";
const scenario = scenarioIn(C);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function dockerCli(proxy: RunningProxy, args: string[], signal: AbortSignal): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      "docker",
      args,
      {
        env: { ...process.env, DOCKER_HOST: proxy.dockerHost, DOCKER_CLI_HINTS: "false" },
        timeout: 60_000,
        signal,
      },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === "number"
            ? (error as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

async function withProxy(ctx: ScenarioContext, options: ProxyOptions = {}): Promise<RunningProxy> {
  const dir = ctx.tempDir();
  const proxy = await startProxy({
    listen: `unix://${join(dir, "proxy.sock")}`,
    upstream: ctx.engine.endpoint.url,
    ...options,
  });
  ctx.defer(() => proxy.close());
  return proxy;
}

async function requireCli(ctx: ScenarioContext, proxy: RunningProxy): Promise<void> {
  const probe = await dockerCli(proxy, ["version", "--format", "{{.Client.Version}}"], ctx.signal);
  if (probe.code !== 0 && /not found|ENOENT/i.test(probe.stderr + probe.stdout)) {
    throw new ScenarioSkipped("the docker CLI is not installed");
  }
}

function labelArgs(ctx: ScenarioContext): string[] {
  return Object.entries(ctx.labels("cli")).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
}

const cliThroughProxy = scenario("cli-through-proxy", {
  title: "The docker CLI works through the proxy (version, ps, run with output)",
  quick: true,
  fault: relayFault(
    "the daemon refuses every container create with a 400",
    /docker run exit code .*expected 0, got [1-9]/s,
    [
      {
        method: "POST",
        path: /^\/containers\/create/,
        answer: { status: 400, body: { message: "berth fault relay: create refused" } },
      },
    ],
  ),
  async run(ctx) {
    const proxy = await withProxy(ctx);
    await requireCli(ctx, proxy);
    const version = await dockerCli(proxy, ["version", "--format", "{{.Server.Version}}"], ctx.signal);
    checkEqual(version.code, 0, `docker version exit code (${version.stderr.trim()})`);
    const expected = (await ctx.engine.version()).Version;
    checkEqual(version.stdout.trim(), expected, "server version through the proxy");
    const ps = await dockerCli(proxy, ["ps", "--format", "{{.ID}}"], ctx.signal);
    checkEqual(ps.code, 0, `docker ps exit code (${ps.stderr.trim()})`);
    const name = ctx.name("cli");
    const ran = await dockerCli(
      proxy,
      ["run", "--rm", "--name", name, ...labelArgs(ctx), ctx.image, "echo", "hello-through-berth"],
      ctx.signal,
    );
    ctx.defer(() => safeRemove(ctx.engine, name, { maxGraceSeconds: 2 }));
    checkEqual(ran.code, 0, `docker run exit code (${ran.stderr.trim()})`);
    checkEqual(ran.stdout.trim(), "hello-through-berth", "docker run output");
    return {
      proxy: proxy.dockerHost,
      serverVersion: version.stdout.trim(),
      runOutput: ran.stdout.trim(),
      requests: proxy.metrics().requests.total,
    };
  },
});

const forceRewrite = scenario("force-removal-rewrite", {
  title: "`docker rm -f` through the proxy stops gracefully: the SIGTERM trap runs",
  quick: true,
  fault: setupFault(
    "the proxy is started with its force-removal rewrite off",
    /marker from the SIGTERM trap: expected `trapped`, got null/,
  ),
  async run(ctx) {
    const proxy = await withProxy(ctx, ctx.faulted ? { rewriteForceRemoval: false } : {});
    await requireCli(ctx, proxy);
    const dir = ctx.tempDir();
    const { name } = await ctx.container({
      cmd: ["sh", "-c", "trap 'echo trapped > /out/marker; exit 0' TERM; echo ready; sleep 3600 & wait"],
      ready: "ready",
      create: { HostConfig: { Binds: [`${dir}:/out`] } },
    });
    const removed = await dockerCli(proxy, ["rm", "-f", name], ctx.signal);
    checkEqual(removed.code, 0, `docker rm -f exit code (${removed.stderr.trim()})`);
    const marker = join(dir, "marker");
    checkEqual(
      existsSync(marker) ? readFileSync(marker, "utf8").trim() : null,
      "trapped",
      "marker from the SIGTERM trap",
    );
    check(
      (await ctx.engine.findContainer(name)) === undefined,
      "the container still exists after docker rm -f",
    );
    const rewrites = proxy.metrics().rewrites;
    check(rewrites.total >= 1, "the proxy counted no rewrite of the force removal", {
      actual: rewrites.total,
    });
    return { container: name, marker: "trapped", rewrites: rewrites.total };
  },
});

const policyDenial = scenario("policy-denial", {
  title: "A policy denial (privileged container) reaches the CLI as a clear error, and nothing is created",
  // Where privileged containers cannot start at all, the CLI still fails, but not by the policy.
  fault: setupFault(
    "the proxy is started without its policy",
    /docker run --privileged succeeded through a proxy that denies it|the CLI's error does not say the policy denied it/,
  ),
  async run(ctx) {
    const proxy = await withProxy(ctx, {
      policy: ctx.faulted
        ? undefined
        : {
            source: "berth validate's policy",
            denyPrivileged: true,
            denyHostNamespaces: [],
            denyEndpoints: [],
            allowedBindPaths: undefined,
          },
    });
    await requireCli(ctx, proxy);
    const name = ctx.name("privileged");
    const ran = await dockerCli(
      proxy,
      ["run", "--rm", "--privileged", "--name", name, ...labelArgs(ctx), ctx.image, "true"],
      ctx.signal,
    );
    ctx.defer(() => safeRemove(ctx.engine, name, { maxGraceSeconds: 2 }));
    check(ran.code !== 0, "docker run --privileged succeeded through a proxy that denies it");
    check(/policy denies/i.test(ran.stderr), "the CLI's error does not say the policy denied it", {
      actual: ran.stderr.trim(),
    });
    check((await ctx.engine.findContainer(name)) === undefined, "the denied container was created anyway");
    const denials = proxy.metrics().denials;
    checkEqual(denials.byRule.privileged ?? 0, 1, "privileged denials counted");
    return { exitCode: ran.code, cliSaid: ran.stderr.trim().split("\n")[0] ?? "" };
  },
});

const sharedLimit = scenario("shared-limit", {
  title: "Parallel lifecycles from several clients through the proxy all succeed within its limit",
  exclusive: true,
  timeoutMs: 120_000,
  fault: setupFault(
    "the proxy is started with its limiter off",
    /lifecycle requests were open at the daemon at once, above the proxy's limit 2/,
  ),
  async run(ctx) {
    // In-flight work is counted where the daemon is: a relay between the proxy and the daemon
    // sees every lifecycle request the proxy lets through, whatever the proxy thinks it did.
    const relay = await startAnswerRelay(ctx.engine.endpoint, [], "lifecycle");
    ctx.defer(() => relay.close());
    const limit = 2;
    const proxy = await withProxy(ctx, {
      upstream: relay.dockerHost,
      limiter: ctx.faulted ? { mode: "off" } : { mode: "fixed", maxConcurrent: limit, minIntervalMs: 0 },
    });
    const clients = Array.from({ length: 4 }, () => new Engine({ dockerHost: proxy.dockerHost }));
    const outcomes = await Promise.all(
      clients.flatMap((client) =>
        Array.from({ length: ctx.quick ? 2 : 4 }, async () => {
          const name = ctx.name("via-proxy");
          try {
            const { id } = await client.createContainer({
              name,
              Image: ctx.image,
              Cmd: TRAPPING_LOOP,
              Labels: ctx.labels("proxy"),
            } as ContainerCreateSpec);
            ctx.defer(() => safeRemove(ctx.engine, id, { maxGraceSeconds: 2 }));
            await client.startContainer(id);
            await waitForOutput(client, id, "ready", 30_000, ctx.signal);
            const record = await safeRemove(client, id, { graceSeconds: GRACE_SECONDS });
            return record.outcome === "exited" ? "ok" : record.outcome;
          } catch (error) {
            return (error as Error).message;
          }
        }),
      ),
    );
    for (const client of clients) client.close();
    const failures = outcomes.filter((o) => o !== "ok");
    checkEqual(failures.length, 0, `failed lifecycles (${failures[0] ?? ""})`);
    const atDaemon = relay.counted.most;
    ctx.observe("lifecycleRequestsAtDaemon", relay.counted.total);
    ctx.observe("mostOpenAtDaemon", atDaemon);
    ctx.observe("proxySaidMostInFlight", proxy.metrics().maxInFlight.lifecycle);
    check(
      relay.counted.total >= outcomes.length * 3,
      "the relay saw too few lifecycle requests to mean anything",
      {
        actual: relay.counted.total,
      },
    );
    check(
      atDaemon <= limit,
      `${atDaemon} lifecycle requests were open at the daemon at once, above the proxy's limit ${limit}`,
      { expected: `<= ${limit}`, actual: atDaemon },
    );
    return { clients: clients.length, lifecycles: outcomes.length, mostOpenAtDaemon: atDaemon, limit };
  },
});

export const proxy: Category = {
  id: C,
  title: "Proxy",
  scenarios: [cliThroughProxy, forceRewrite, policyDenial, sharedLimit, proxyBadInput],
};
