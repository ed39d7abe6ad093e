// Networks: berth's labelled bridge networks are created, joined, resolve service aliases between
// containers, stay isolated from each other and are removed; when the daemon's address pools are
// exhausted by dead runs, berth reclaims them, and says clearly when it cannot.
import { randomInt } from "node:crypto";
import { hostname } from "node:os";
import { NotFoundError } from "../../engine/errors.js";
import type { ContainerCreateSpec } from "../../engine/types.js";
import { busyboxWebServer } from "../../fixtures/busybox.js";
import { privateDaemonUnavailable, startPrivateDaemon } from "../../fixtures/private-daemon.js";
import { createNetworkWithRecovery } from "../../janitor/address-pools.js";
import { AddressPoolsExhaustedError } from "../../janitor/errors.js";
import { sessionLabels } from "../../model/labels.js";
import { RUN_LABEL } from "../run-scope.js";
import type { Category, ScenarioContext } from "../scenario.js";
import {
  check,
  checkEqual,
  checkRejects,
  relayFault,
  ScenarioSkipped,
  scenarioIn,
  setupFault,
} from "../scenario.js";
import { deadPid } from "./conflicts.js";

const C = "networks";
const scenario = scenarioIn(C);
// busybox 1.35's wget crashes with its own -T timeout, so waits go through `timeout` instead.
/** Fetches the server by its alias `db`, from inside a container. */
const GET_DB = ["timeout", "5", "wget", "-q", "-O", "-", "http://db:8080/"];
const SERVE = ["sh", "-c", busyboxWebServer("mkdir -p /www; echo from-db > /www/index.html")];

async function network(ctx: ScenarioContext, prefix = "net"): Promise<{ id: string; name: string }> {
  const name = ctx.name(prefix);
  await ctx.session.beforeCreate();
  const { id } = await createNetworkWithRecovery(ctx.engine, {
    Name: name,
    Driver: "bridge",
    Labels: ctx.labels(),
    CheckDuplicate: true,
  });
  ctx.defer(() =>
    ctx.engine.removeNetwork(id).catch((e) => (e instanceof NotFoundError ? undefined : Promise.reject(e))),
  );
  return { id, name };
}

function onNetwork(net: string, aliases: string[] = []): Partial<ContainerCreateSpec> {
  return {
    HostConfig: { NetworkMode: net },
    NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: aliases } } },
  } as Partial<ContainerCreateSpec>;
}

const create = scenario("create", {
  title: "A labelled bridge network is created with its own subnet",
  quick: true,
  fault: relayFault("the daemon reports the network without a subnet", /the network has no subnet/, [
    {
      method: "GET",
      path: /^\/networks\/[^/?]+(\?|$)/,
      json: (info) => ({ ...info, IPAM: { ...info.IPAM, Config: [] } }),
    },
  ]),
  async run(ctx) {
    const { id, name } = await network(ctx);
    const info = await ctx.engine.inspectNetwork(id);
    checkEqual(info.Driver, "bridge", "driver");
    checkEqual(info.Labels?.[RUN_LABEL] ?? null, ctx.runId, "run label");
    const subnet = info.IPAM?.Config?.[0]?.Subnet;
    check(subnet, "the network has no subnet");
    return { network: name, subnet };
  },
});

const connect = scenario("connect", {
  title: "A running container joins a network with an alias and gets an address in its subnet",
  fault: relayFault(
    "the connect is answered 200 but never reaches the daemon",
    /the container has no address on/,
    [{ method: "POST", path: /^\/networks\/[^/]+\/connect/, answer: { status: 200 } }],
  ),
  async run(ctx) {
    const net = await network(ctx);
    const { id } = await ctx.container();
    await ctx.engine.connectNetwork(net.id, id, ["bee"]);
    const info = await ctx.engine.inspectContainer(id);
    const endpoint = info.NetworkSettings.Networks[net.name];
    check(endpoint?.IPAddress, `the container has no address on ${net.name}`);
    check(endpoint.Aliases?.includes("bee"), "the alias `bee` is missing", {
      actual: endpoint.Aliases ?? [],
    });
    const subnet = (await ctx.engine.inspectNetwork(net.id)).IPAM?.Config?.[0]?.Subnet ?? "";
    const prefix = subnet.split(".").slice(0, 2).join(".");
    check(endpoint.IPAddress.startsWith(prefix), `${endpoint.IPAddress} is not in ${subnet}`);
    return { address: endpoint.IPAddress, subnet, aliases: endpoint.Aliases ?? [] };
  },
});

const dnsAliases = scenario("dns-aliases", {
  title: "Containers reach each other by service alias over the network",
  quick: true,
  fault: setupFault(
    "the server joins the network without its alias `db`",
    /answer from http:\/\/db:8080\/ inside the network: expected `from-db`/,
  ),
  async run(ctx) {
    const net = await network(ctx);
    const alias = ctx.faulted ? [] : ["db"];
    const server = await ctx.container({ cmd: SERVE, ready: "serving", create: onNetwork(net.name, alias) });
    const client = await ctx.container({ create: onNetwork(net.name) });
    let answer = "";
    let complaint = "";
    const deadline = performance.now() + 30_000;
    while (answer !== "from-db" && performance.now() < deadline) {
      if (complaint) await ctx.sleep(200);
      const got = await ctx.engine.exec(client.id, GET_DB);
      answer = got.stdout.trim();
      complaint = got.stderr.trim() || `exit ${got.exitCode}`;
    }
    ctx.observe("answer", answer);
    if (answer !== "from-db") ctx.observe("wgetSaid", complaint);
    checkEqual(answer, "from-db", "answer from http://db:8080/ inside the network");
    const lookup = await ctx.engine.exec(client.id, ["nslookup", "db"]);
    const serverIp =
      (await ctx.engine.inspectContainer(server.id)).NetworkSettings.Networks[net.name]?.IPAddress ?? "";
    check(lookup.stdout.includes(serverIp), `nslookup db did not answer the server's address ${serverIp}`, {
      actual: lookup.stdout.trim(),
    });
    return { alias: "db", resolvedTo: serverIp, answer };
  },
});

const isolation = scenario("isolation", {
  title: "An alias on one network does not resolve from another network",
  fault: setupFault(
    "no isolation: the outsider joins the server's network",
    /`db` resolves from a container on another network/,
  ),
  async run(ctx) {
    const [a, b] = [await network(ctx, "net-a"), await network(ctx, "net-b")];
    const server = await ctx.container({ cmd: SERVE, ready: "serving", create: onNetwork(a.name, ["db"]) });
    const serverIp =
      (await ctx.engine.inspectContainer(server.id)).NetworkSettings.Networks[a.name]?.IPAddress ?? "";
    const outsider = await ctx.container({ create: onNetwork(ctx.faulted ? a.name : b.name) });
    const lookup = await ctx.engine.exec(outsider.id, ["nslookup", "db"]);
    ctx.observe("nslookupFromOtherNetwork", lookup.stdout.trim().split("\n").slice(-2).join(" / "));
    check(
      lookup.exitCode !== 0 && !lookup.stdout.includes(serverIp),
      "`db` resolves from a container on another network",
      {
        actual: lookup.stdout.trim(),
      },
    );
    const result = await ctx.engine.exec(outsider.id, GET_DB);
    check(
      result.exitCode !== 0 && result.exitCode !== 139,
      "a container on another network reached `db` over HTTP",
      {
        actual: `exit ${result.exitCode}: ${result.stdout.trim()}`,
      },
    );
    return { from: b.name, alias: "db", serverOn: a.name, wgetError: result.stderr.trim() };
  },
});

const remove = scenario("remove", {
  title: "A network in use is not removed; once free it is, and it is gone",
  fault: relayFault(
    "the removal of the network in use is answered 204 but never reaches the daemon",
    /removing a network with a container on it: expected an error, but the call succeeded/,
    [{ method: "DELETE", path: /^\/networks\//, times: 1, answer: { status: 204 } }],
  ),
  async run(ctx) {
    const net = await network(ctx);
    const { id } = await ctx.container({ create: onNetwork(net.name) });
    const refused = await checkRejects(
      () => ctx.engine.removeNetwork(net.id),
      "removing a network with a container on it",
    );
    ctx.observe("refusal", (refused as Error).message);
    // Engines answer 403 or 500 here depending on their version; what matters is that it stays.
    check(
      /active endpoints|in use/i.test((refused as Error).message),
      "the refusal does not say the network is in use",
      {
        actual: (refused as Error).message,
      },
    );
    check(await ctx.engine.inspectNetwork(net.id), "the network in use was removed");
    await ctx.engine.stopContainer(id, 10);
    await ctx.engine.disconnectNetwork(net.id, id);
    await ctx.engine.removeNetwork(net.id);
    const gone = await checkRejects(
      () => ctx.engine.inspectNetwork(net.id),
      "inspecting the removed network",
    );
    check(gone instanceof NotFoundError, "the removed network can still be inspected");
    return { removedOnceFree: true };
  },
});

const poolRecovery = scenario("address-pool-recovery", {
  title: "Exhausted address pools are reclaimed from dead runs; otherwise a clear error",
  timeoutMs: 90_000,
  fault: setupFault(
    "the networks that fill the pool belong to a live run, so nothing may be reclaimed",
    /address pool|AddressPoolsExhausted|the create did not need a recovery/i,
  ),
  async run(ctx) {
    // A private daemon whose pool holds exactly 4 networks (/26 cut into /28s).
    const unavailable = privateDaemonUnavailable();
    if (unavailable) throw new ScenarioSkipped(unavailable);
    const daemon = await startPrivateDaemon({
      addressPool: { base: `10.213.${randomInt(0, 256)}.0/26`, size: 28 },
    });
    ctx.defer(() => daemon.stop());
    const engine = daemon.engine;
    const dead = {
      ...sessionLabels({
        session: `dead${ctx.runId}`,
        project: "dead",
        owner: { host: hostname(), pid: deadPid(), startTime: "1" },
      }),
      [RUN_LABEL]: ctx.runId,
    };
    const owners = ctx.faulted ? { ...dead, ...ctx.labels() } : dead;
    for (let i = 0; i < 4; i++)
      await engine.createNetwork({ Name: `dead-${i}`, Labels: owners, CheckDuplicate: true });
    const recovered = await createNetworkWithRecovery(engine, {
      Name: "live-0",
      Labels: ctx.labels(),
      CheckDuplicate: true,
    });
    check(recovered.recovery, "the create did not need a recovery: the pool was not exhausted");
    const reclaimed = recovered.recovery.counts.networks;
    check(reclaimed === 4, `gc reclaimed ${reclaimed} of the 4 dead run's networks`, {
      expected: 4,
      actual: reclaimed,
    });
    for (let i = 1; i < 4; i++)
      await engine.createNetwork({ Name: `live-${i}`, Labels: ctx.labels(), CheckDuplicate: true });
    const error = await checkRejects(
      () => createNetworkWithRecovery(engine, { Name: "live-4", Labels: ctx.labels(), CheckDuplicate: true }),
      "create with the pool full of live networks",
    );
    check(
      error instanceof AddressPoolsExhaustedError,
      `the error is not the address-pool error: ${(error as Error).message}`,
      {
        expected: "AddressPoolsExhaustedError",
        actual: (error as Error).name,
        hint: daemon.logTail(5),
      },
    );
    check(
      /berth gc/.test((error as AddressPoolsExhaustedError).hint ?? ""),
      "the error's hint does not say to run berth gc",
    );
    const live = (await engine.listNetworks()).filter((n) => n.Name.startsWith("live-")).length;
    checkEqual(live, 4, "live networks left untouched by the recovery");
    return {
      pool: "4 networks",
      reclaimedFromDeadRun: reclaimed,
      error: (error as AddressPoolsExhaustedError).message,
    };
  },
});

export const networks: Category = {
  id: C,
  title: "Networks",
  scenarios: [create, connect, dnsAliases, isolation, remove, poolRecovery],
};
