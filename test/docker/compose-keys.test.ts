// The Compose keys of issue 16 against the real daemon, in one project: secrets (file and
// environment) at /run/secrets, a config, container_name and hostname reached from another
// service, init as PID 1, cap_add in /proc/1/status, extends from another file, include, and
// replicas with their own ports.
import { describe, expect, it } from "vitest";
import { up } from "../../src/stack/up.js";
import { composeDir, HTTP_HEALTHCHECK, httpdCommand, sessionResources } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const NET_ADMIN_BIT = 12n;

function stack(image: string): Record<string, string> {
  const httpd = JSON.stringify(httpdCommand("db"));
  return {
    "compose.yml": `
name: keys
include:
  - included/compose.yml
services:
  db:
    image: ${image}
    command: ${httpd}
    container_name: the-database
    hostname: dbhost
    init: true
    cap_add: [NET_ADMIN]
    ulimits:
      nofile: {soft: 1000, hard: 2000}
    sysctls:
      net.ipv4.ip_unprivileged_port_start: "0"
    extra_hosts: ["example.test:10.1.2.3"]
    shm_size: 8m
    secrets:
      - token
      - source: api_key
        mode: 0400
    configs:
      - source: settings
        target: /etc/app/settings.conf
    healthcheck:
      test: ${JSON.stringify(HTTP_HEALTHCHECK)}
      interval: 300ms
      retries: 60
  client:
    image: ${image}
    command: ["sh", "-c", "wget -q -O- http://the-database:8080/ && wget -q -O- http://dbhost:8080/ && echo reached-both; trap 'exit 0' TERM; sleep 3600 & wait"]
    depends_on:
      db: {condition: service_healthy}
    x-berth:
      wait: [{log: reached-both}]
  web:
    extends:
      file: base/services.yml
      service: httpd
    deploy:
      replicas: 2
secrets:
  token:
    file: ./token.txt
  api_key:
    environment: BERTH_TEST_API_KEY
configs:
  settings:
    content: "level=debug"
`,
    "token.txt": "file-secret-value",
    "base/services.yml": `
services:
  httpd:
    image: ${image}
    command: ${JSON.stringify(httpdCommand("web"))}
    ports: ["8080"]
`,
    "included/compose.yml": `
services:
  side:
    image: ${image}
    command: ${JSON.stringify(httpdCommand("side"))}
`,
  };
}

describe("Compose keys against the real daemon", () => {
  it("honours secrets, configs, names, init, capabilities, extends, include and replicas", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    try {
      for (const [name, text] of Object.entries(stack(fixtureImage()))) {
        const { mkdirSync } = await import("node:fs");
        const { dirname, join } = await import("node:path");
        mkdirSync(dirname(join(dir.dir, name)), { recursive: true });
        dir.file(name, text);
      }
      const env = await up({
        files: [`${dir.dir}/compose.yml`],
        env: { ...process.env, BERTH_TEST_API_KEY: "env-secret-value" },
      });
      try {
        expect(env.services.map((s) => [s.name, s.state]).sort()).toEqual([
          ["client", "ready"],
          ["db", "ready"],
          ["side", "ready"],
          ["web", "ready"],
          ["web-2", "ready"],
        ]);
        const sh = async (command: string) => {
          const result = await env.exec("db", ["sh", "-c", command]);
          expect(result.exitCode, `${command}: ${result.stderr}`).toBe(0);
          return result.stdout;
        };
        // Secrets and the config, read-only files at their targets.
        expect(await sh("cat /run/secrets/token")).toBe("file-secret-value");
        expect(await sh("cat /run/secrets/api_key")).toBe("env-secret-value");
        expect(await sh("stat -c %a /run/secrets/api_key")).toBe("400\n");
        expect(await sh("cat /etc/app/settings.conf")).toBe("level=debug");
        expect((await env.exec("db", ["sh", "-c", "echo x > /run/secrets/token"])).exitCode).not.toBe(0);
        // init: PID 1 is Docker's init, the command runs below it.
        expect(await sh("cat /proc/1/cmdline | tr '\\\\0' ' '")).toMatch(/docker-init/);
        // cap_add: NET_ADMIN is in the effective set.
        const capEff = /CapEff:\s*([0-9a-f]+)/.exec(await sh("cat /proc/1/status"))![1]!;
        expect((BigInt(`0x${capEff}`) >> NET_ADMIN_BIT) & 1n).toBe(1n);
        expect(await sh("grep example.test /etc/hosts")).toMatch(/10\.1\.2\.3\s+example\.test/);
        expect(await sh("hostname")).toBe("dbhost\n");
        const inspect = await engine.inspectContainer(env.service("db").containerId);
        expect(inspect.Name).toBe(`/${env.project}-db-1`);
        expect(inspect.HostConfig.Ulimits).toEqual([{ Name: "nofile", Soft: 1000, Hard: 2000 }]);
        expect(inspect.HostConfig.Sysctls).toEqual({ "net.ipv4.ip_unprivileged_port_start": "0" });
        expect(inspect.HostConfig.ShmSize).toBe(8 * 1024 * 1024);
        // container_name and hostname resolve from another service.
        expect(await env.logs("client")).toContain("reached-both");
        // extends from another file, replicated: two containers, two host ports, both serving.
        const first = env.endpoint("web", 8080);
        const second = env.endpoint("web-2", 8080);
        expect(first.port).not.toBe(second.port);
        for (const endpoint of [first, second]) {
          expect(await (await fetch(`http://${endpoint.address}/`)).text()).toBe("web\n");
        }
        expect(env.service("web-2").containerName).toBe(`${env.project}-web-2`);
      } finally {
        await env.down();
        expect(await sessionResources(env.session)).toEqual([]);
      }
    } finally {
      dir.remove();
    }
  });
});
