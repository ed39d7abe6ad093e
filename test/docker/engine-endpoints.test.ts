// berth through remote-style endpoints in front of the local daemon: Docker over mutual TLS (a
// socat relay with verify=1 and a test CA) and over ssh (a private sshd running the docker CLI's
// `system dial-stdio`). The library pings and runs an exec through each; the CLI's up, ps, down
// and rm work through each; wrong TLS material and a refused ssh login are exit 3 errors that
// name the endpoint. A plain endpoint's requests never work out a TLS servername.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { type SshEndpoint, startSshEndpoint } from "../../src/fixtures/ssh-endpoint.js";
import { startTlsEndpoint, type TlsEndpoint } from "../../src/fixtures/tls-endpoint.js";
import { newSessionId } from "../../src/janitor/session.js";
import {
  berthProcess as berth,
  composeDir,
  HTTP_HEALTHCHECK,
  httpdCommand,
  projectResources,
} from "./stack-fixtures.js";
import {
  fixtureImage,
  engine as local,
  testLabels,
  trappingCommand,
  uniqueName,
  waitForLine,
} from "./support.js";

function webFile(image: string): string {
  return `
services:
  web:
    image: ${image}
    command: ${JSON.stringify(httpdCommand("hello-through-endpoint"))}
    ports: ["8080"]
    healthcheck:
      test: ${JSON.stringify(HTTP_HEALTHCHECK)}
      interval: 300ms
      retries: 60
`;
}

/** The library's calls, then `berth up / ps / rm / down` as a user runs them, through `env`. */
async function roundTrip(env: Record<string, string>, kind: string): Promise<void> {
  const engine = new Engine({ env });
  try {
    expect(await engine.ping()).toBe("OK");
    const name = uniqueName(`endpoint-${kind}`);
    const { id } = await engine.createContainer({
      name,
      Image: fixtureImage(),
      Cmd: trappingCommand(),
      Labels: testLabels(),
    });
    await engine.startContainer(id);
    await waitForLine(id);
    // An exec is an upgraded (hijacked) connection: it must work over TLS and ssh too.
    expect(await engine.exec(id, ["sh", "-c", `echo ${kind}; exit 3`])).toEqual({
      exitCode: 3,
      stdout: `${kind}\n`,
      stderr: "",
    });
    const rm = await berth(["rm", name, "--json"], process.cwd(), env);
    expect(rm.stderr).toBe("");
    expect(JSON.parse(rm.stdout)).toMatchObject({ ok: true, outcome: "exited" });
    expect(await local.findContainer(id)).toBeUndefined();
  } finally {
    engine.close();
  }

  const dir = composeDir();
  const project = `berth-test-${kind}-${newSessionId().slice(0, 6)}`;
  try {
    dir.file("compose.yaml", webFile(fixtureImage()));
    const up = await berth(["up", "-p", project, "--json"], dir.dir, env);
    expect(up.code ?? 0, up.stderr).toBe(0);
    const result = JSON.parse(up.stdout.trim()) as {
      ok: boolean;
      services: { endpoints: { address: string }[] }[];
    };
    expect(result.ok).toBe(true);
    const address = result.services[0]!.endpoints[0]!.address;
    expect(await (await fetch(`http://${address}/`)).text()).toBe("hello-through-endpoint\n");
    const ps = JSON.parse((await berth(["ps", "-p", project, "--json"], dir.dir, env)).stdout) as unknown;
    expect(ps).toMatchObject([{ service: "web", state: "running", health: "healthy" }]);
    const down = await berth(["down", "-p", project, "--json"], dir.dir, env);
    expect(down.code ?? 0, down.stderr).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ ok: true, containers: [{ service: "web" }] });
    expect(await projectResources(project)).toEqual([]);
  } finally {
    await berth(["down", "-p", project], dir.dir, env);
    dir.remove();
  }
}

describe("a plain endpoint", () => {
  // Node's agent works out a TLS servername with net.isIP() for every request that has none; its
  // first call compiles a large regular expression (~25 ms of a short command), which a plain
  // connection never needs.
  it("never computes a TLS servername", async () => {
    const isIP = vi.spyOn(net, "isIP");
    const engine = new Engine();
    try {
      expect(await engine.ping()).toBe("OK");
      expect(Array.isArray(await engine.listContainers())).toBe(true);
      expect(isIP).not.toHaveBeenCalled();
    } finally {
      engine.close();
      isIP.mockRestore();
    }
  });
});

describe("Docker over mutual TLS", () => {
  let tls: TlsEndpoint;
  beforeAll(async () => {
    tls = await startTlsEndpoint();
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it("serves the library and berth up / ps / rm / down", { timeout: 240_000 }, async () => {
    await roundTrip(tls.env(), "tls");
  });

  it("refuses wrong TLS material with exit 3, naming the endpoint and the cause", {
    timeout: 120_000,
  }, async () => {
    const cases = [
      { variant: "wrong-ca", says: /certificate/i },
      { variant: "no-client-cert", says: /requires a client certificate/ },
      { variant: "expired-client-cert", says: /expired/ },
    ] as const;
    for (const { variant, says } of cases) {
      // With --json the error is a JSON document on stdout.
      const result = (await berth(["ps", "--json"], process.cwd(), tls.env(variant))) as {
        code: number;
        stdout: string;
        stderr: string;
      };
      expect(result.code, `${variant}: ${result.stdout}${result.stderr}`).toBe(3);
      const error = (JSON.parse(result.stdout) as { error: { code: string; message: string } }).error;
      expect(error.message).toContain(tls.dockerHost);
      expect(error.message).toMatch(says);
      expect(error.code).toBe("BERTH_TLS");
    }
  });
});

describe("Docker over ssh", () => {
  let ssh: SshEndpoint;
  beforeAll(async () => {
    ssh = await startSshEndpoint();
  });
  afterAll(async () => {
    await ssh?.stop();
  });

  it("serves the library and berth up / ps / rm / down", { timeout: 300_000 }, async () => {
    await roundTrip(ssh.env(), "ssh");
  });

  it("reports a refused login with exit 3, naming the endpoint and ssh's own words", {
    timeout: 120_000,
  }, async () => {
    const result = (await berth(["ps"], process.cwd(), { ...ssh.env(), BERTH_SSH_CONFIG: "/dev/null" })) as {
      code: number;
      stderr: string;
    };
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(ssh.dockerHost);
    expect(result.stderr).toContain("Host key verification failed");
  });
});
