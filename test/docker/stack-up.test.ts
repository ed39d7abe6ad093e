import { describe, expect, it } from "vitest";
import { LABELS } from "../../src/model/labels.js";
import type { StackEvent } from "../../src/stack/progress/events.js";
import { up } from "../../src/stack/up.js";
import { composeDir, HTTP_HEALTHCHECK, httpdCommand, sessionResources } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

function chainFile(image: string): string {
  const httpd = (content: string) => JSON.stringify(httpdCommand(content));
  return `
name: chain
services:
  db:
    image: ${image}
    command: ${httpd("db")}
    ports: ["8080"]
    volumes: ["data:/data", "/scratch"]
    healthcheck:
      test: ${JSON.stringify(HTTP_HEALTHCHECK)}
      interval: 300ms
      retries: 30
  migrate:
    image: ${image}
    command: ["sh", "-c", "wget -q -O- http://db:8080/index.html && echo migrated"]
    depends_on:
      db: { condition: service_healthy }
  api:
    image: ${image}
    command: ${httpd("api")}
    ports: ["8080"]
    mem_limit: 32m
    depends_on:
      db: { condition: service_healthy }
      migrate: { condition: service_completed_successfully }
    x-berth:
      wait:
        - http: { port: 8080, path: /health, status: 200 }
volumes:
  data: {}
`;
}

describe("berth up (library) against the real daemon", () => {
  it("starts a service_healthy chain with a one-shot migration in order, serves endpoints, and down leaves nothing", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    try {
      const file = dir.file("compose.yml", chainFile(fixtureImage()));
      const events: StackEvent[] = [];
      const env = await up({ files: [file], onProgress: (e) => events.push(e) });
      try {
        expect(env.project).toMatch(/^chain-[0-9a-f]{8}$/);
        expect(env.services.map((s) => [s.name, s.state]).sort()).toEqual([
          ["api", "ready"],
          ["db", "ready"],
          ["migrate", "completed"],
        ]);
        // Dependency order: migrate starts after db is ready, api after migrate completed.
        const at = (service: string, phase: string) =>
          events.findIndex((e) => e.type === "service" && e.service === service && e.phase === phase);
        expect(at("migrate", "starting")).toBeGreaterThan(at("db", "ready"));
        expect(at("api", "starting")).toBeGreaterThan(at("migrate", "completed"));

        const api = env.endpoint("api", 8080);
        expect(api.host).toBe("127.0.0.1");
        expect(await (await fetch(`http://${api.address}/`)).text()).toBe("api\n");
        expect(await (await fetch(env.url("db", 8080, "/index.html"))).text()).toBe("db\n");
        expect(env.env()).toEqual({ API_8080: api.address, DB_8080: env.endpoint("db", 8080).address });
        // The migration reached db by its service name on the project network.
        expect(await env.logs("migrate")).toContain("migrated");
        const inspect = await engine.inspectContainer(env.service("api").containerId);
        expect(inspect.HostConfig.Memory).toBe(32 * 1024 * 1024);
        expect(inspect.HostConfig.MemorySwap).toBe(32 * 1024 * 1024);
        expect(inspect.Config.Labels[LABELS.session]).toBe(env.session);
        expect(await sessionResources(env.session)).toEqual(
          expect.arrayContaining([`network ${env.project}_default`, `volume ${env.project}_data`]),
        );
      } finally {
        const stopped = await env.down();
        expect(stopped.report.containers.map((c) => c.service).sort()).toEqual(["api", "db", "migrate"]);
        expect(stopped.report.volumes).toContain(`${env.project}_data`);
        expect(await sessionResources(env.session)).toEqual([]);
        // Down twice is fine.
        expect((await env.down()).report).toBe(stopped.report);
      }
    } finally {
      dir.remove();
    }
  });

  it("runs two projects from the same file at once, isolated by network and ports", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    try {
      const file = dir.file(
        "compose.yml",
        `
services:
  web:
    image: ${fixtureImage()}
    command: ${JSON.stringify(httpdCommand("$$HOSTNAME"))}
    ports: ["8080"]
`,
      );
      const [a, b] = await Promise.all([up({ files: [file] }), up({ files: [file] })]);
      try {
        expect(a.project).not.toBe(b.project);
        expect(a.endpoint("web", 8080).port).not.toBe(b.endpoint("web", 8080).port);
        const networks = async (id: string) =>
          Object.keys((await engine.inspectContainer(id)).NetworkSettings.Networks).sort();
        expect(await networks(a.service("web").containerId)).toEqual([`${a.project}_default`]);
        expect(await networks(b.service("web").containerId)).toEqual([`${b.project}_default`]);
        const [pageA, pageB] = await Promise.all([
          fetch(a.url("web", 8080)).then((r) => r.text()),
          fetch(b.url("web", 8080)).then((r) => r.text()),
        ]);
        expect(pageA).not.toBe(pageB);
      } finally {
        await Promise.all([a.down(), b.down()]);
      }
      expect(await sessionResources(a.session)).toEqual([]);
      expect(await sessionResources(b.session)).toEqual([]);
    } finally {
      dir.remove();
    }
  });

  it("merges override files with Compose's rules and takes itself down with await using", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    try {
      const base = dir.file(
        "compose.yml",
        `
services:
  web:
    image: ${fixtureImage()}
    command: ${JSON.stringify(httpdCommand("$${GREETING}"))}
    environment:
      GREETING: base
    ports: ["8080"]
`,
      );
      const override = dir.file(
        "compose.override.yml",
        `
services:
  web:
    environment:
      GREETING: override
    labels:
      team: tests
`,
      );
      let session = "";
      {
        await using env = await up({ files: [base, override] });
        session = env.session;
        expect(await (await fetch(env.url("web", 8080))).text()).toBe("override\n");
        const inspect = await engine.inspectContainer(env.service("web").containerId);
        expect(inspect.Config.Labels.team).toBe("tests");
      }
      expect(await sessionResources(session)).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});
