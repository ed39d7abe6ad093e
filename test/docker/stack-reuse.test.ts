// Reuse against the real daemon: a released environment is handed over again (same key), a
// changed file or a rebuilt image misses, reset commands run before hand-over and a failing one
// replaces the environment, so does a container stopped by hand; berth gc expires idle ones after
// their TTL (or --older-than) and berth ls shows key, state and staleness.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/model/labels.js";
import { down } from "../../src/stack/down.js";
import type { StartedEnvironment } from "../../src/stack/environment.js";
import { up } from "../../src/stack/up.js";
import { cliInProcess } from "./cli-in-process.js";
import { composeDir, HTTP_HEALTHCHECK, httpdCommand, sessionResources } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const dir = composeDir();
const sessions = new Set<string>();
let previousReuse: string | undefined;

beforeAll(() => {
  // Reuse is off on CI unless forced; these tests are about reuse.
  previousReuse = process.env.BERTH_REUSE;
  process.env.BERTH_REUSE = "force";
});

afterAll(async () => {
  // Reusable environments outlive their owners: the tests remove every one they made.
  // Every one is tried; the first failure is reported after.
  const results = await Promise.allSettled(
    [...sessions].map((session) => down({ engine, session, volumes: true })),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  dir.remove();
  if (previousReuse === undefined) delete process.env.BERTH_REUSE;
  else process.env.BERTH_REUSE = previousReuse;
  if (failed) throw failed.reason;
});

function web(
  options: { content?: string; reset?: (string | string[])[]; image?: string; top?: string } = {},
): string {
  const reset = options.reset
    ? `\n    x-berth:\n      reset:\n${options.reset.map((r) => `        - ${JSON.stringify(r)}`).join("\n")}`
    : "";
  return `${options.top ?? ""}services:
  web:
    ${options.image ?? `image: ${fixtureImage()}`}
    command: ${JSON.stringify(httpdCommand(options.content ?? "hello"))}
    ports: ["127.0.0.1::8080"]
    healthcheck:
      test: ${JSON.stringify(HTTP_HEALTHCHECK)}
      interval: 1s
      retries: 60${reset}
`;
}

async function reusable(file: string): Promise<StartedEnvironment> {
  const env = await up({ files: [file], reuse: true, watch: false });
  sessions.add(env.session);
  return env;
}

async function running(session: string): Promise<number> {
  const containers = await engine.listContainers({
    all: false,
    filters: { label: [`${LABELS.session}=${session}`] },
  });
  return containers.length;
}

describe("reuse", () => {
  it("hands a released environment over again; a changed file or a rebuilt image misses", async () => {
    const file = dir.file("hit.yml", web({ content: "first" }));
    const first = await reusable(file);
    expect(first.reused).toBe(false);
    expect(first.reuseKey).toMatch(/^[0-9a-f]{64}$/);
    const released = await first.down();
    expect(released.released).toBe(true);
    expect(await running(first.session)).toBe(1);

    const second = await reusable(file);
    expect(second.reused).toBe(true);
    expect(second.session).toBe(first.session);
    expect(second.reuseKey).toBe(first.reuseKey);
    expect(second.toJSON()).toMatchObject({ reused: true, reuseKey: first.reuseKey });
    expect(await (await fetch(second.url("web", 8080, "/index.html"))).text()).toBe("first\n");
    await second.down();

    dir.file("hit.yml", web({ content: "changed" }));
    const changed = await reusable(file);
    expect(changed.reused).toBe(false);
    expect(changed.reuseKey).not.toBe(first.reuseKey);
    await changed.down({ remove: true });
    expect(await sessionResources(changed.session)).toEqual([]);

    // The same file, but its image rebuilt: the image id is part of the key.
    dir.file("Dockerfile", `FROM ${fixtureImage()}\nLABEL berth.test.build=one\n`);
    const built = dir.file("built.yml", web({ image: "build: { context: . }" }));
    const one = await reusable(built);
    await one.down();
    dir.file("Dockerfile", `FROM ${fixtureImage()}\nLABEL berth.test.build=two\n`);
    const two = await reusable(built);
    expect(two.reused).toBe(false);
    expect(two.reuseKey).not.toBe(one.reuseKey);
    await two.down({ remove: true });
    await one.down({ remove: true });
    const images = await engine.listImages({ label: ["berth.test.build"] });
    for (const image of images) await engine.removeImage(image.Id).catch(() => {});
  });

  it("runs the reset commands before handing over; a failing reset replaces the environment", async () => {
    const file = dir.file(
      "reset.yml",
      web({ reset: ["echo reset >> /www/resets", ["sh", "-c", "echo again >> /www/resets"]] }),
    );
    const first = await reusable(file);
    await first.down();
    const second = await reusable(file);
    expect(second.reused).toBe(true);
    expect((await second.exec("web", ["cat", "/www/resets"])).stdout).toBe("reset\nagain\n");
    await second.down();

    // Reset commands are not part of the key: the same environment is found, and its reset fails.
    dir.file("reset.yml", web({ reset: ["echo the-reset-broke >&2; exit 3"] }));
    const third = await reusable(file);
    expect(third.reused).toBe(false);
    expect(third.session).not.toBe(first.session);
    const warning = third.warnings.find((w) => w.includes(first.project)) ?? "";
    expect(warning).toContain("exited with code 3");
    expect(warning).toContain("the-reset-broke");
    expect(await sessionResources(first.session)).toEqual([]);
    await third.down({ remove: true });
  });

  it("replaces a reused environment whose container was stopped by hand", async () => {
    const file = dir.file("stopped.yml", web({ content: "stopped" }));
    const first = await reusable(file);
    await first.down();
    await engine.stopContainer(first.service("web").containerId, 2);
    const second = await reusable(file);
    expect(second.reused).toBe(false);
    expect(second.session).not.toBe(first.session);
    expect(second.warnings.join("\n")).toMatch(/service web is exited/);
    expect(await sessionResources(first.session)).toEqual([]);
    await second.down({ remove: true });
  });

  it("berth ls shows key, lease and staleness; berth gc expires idle ones after their TTL", async () => {
    const label = `berth.suite=${inject("suiteId")}`;
    const file = dir.file("ttl.yml", web({ content: "ttl", top: "x-berth:\n  reuse: { ttl: 2s }\n" }));
    // `x-berth.reuse` opts in by itself.
    const env = await up({ files: [file], watch: false });
    sessions.add(env.session);
    expect(env.reuseKey).toBeDefined();
    const row = async () => {
      const listed = await cliInProcess("ls", "--json");
      expect(listed.code).toBe(0);
      return (
        JSON.parse(listed.stdout) as { session: string; state: string; key?: string; owner?: string }[]
      ).find((r) => r.session === env.session);
    };
    expect(await row()).toMatchObject({
      state: "leased",
      key: env.reuseKey,
      owner: expect.stringMatching(/\/\d+$/),
    });
    const table = await cliInProcess("ls");
    expect(table.stdout).toMatch(new RegExp(`${env.project}\\s+${env.reuseKey!.slice(0, 12)}\\s+leased by `));

    await env.down();
    expect((await row())?.state).toBe("idle");
    dir.file("ttl.yml", web({ content: "ttl-changed", top: "x-berth:\n  reuse: { ttl: 2s }\n" }));
    expect((await row())?.state).toBe("stale");

    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const gc = await cliInProcess("gc", "--label", label, "--json");
    const session = (
      JSON.parse(gc.stdout) as { sessions: { session: string; reason: string }[] }
    ).sessions.find((s) => s.session === env.session);
    expect(session?.reason).toBe("expired");
    expect(await sessionResources(env.session)).toEqual([]);

    // Default TTL (1 h): kept idle, unless --older-than says less.
    const other = await reusable(dir.file("ttl-default.yml", web({ content: "default" })));
    await other.down();
    const kept = JSON.parse((await cliInProcess("gc", "--label", label, "--json")).stdout) as {
      sessions: { session: string; reason: string }[];
    };
    expect(kept.sessions.find((s) => s.session === other.session)?.reason).toBe("idle");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await cliInProcess("gc", "--label", label, "--older-than", "1s");
    expect(await sessionResources(other.session)).toEqual([]);
  });
});
