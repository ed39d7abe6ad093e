// The proxy's policy with the real docker CLI: denials arrive as 403s the CLI prints, and what the
// policy allows still works.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, startTestProxy, suiteLabelArgs, type TestProxy } from "./proxy-support.js";
import { fixtureImage } from "./support.js";

let t: TestProxy;
let dir: string;
let allowed: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-proxy-policy-"));
  allowed = join(dir, "allowed");
  mkdirSync(join(allowed, "data"), { recursive: true });
  const file = join(dir, "policy.yaml");
  writeFileSync(
    file,
    `deny:\n  privileged: true\n  hostNamespaces: [network, pid, ipc]\n  endpoints: [build]\nbindMounts:\n  allowed: [${allowed}]\n`,
  );
  t = await startTestProxy({ policy: file });
});

afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const runRm = (...args: string[]) =>
  docker(["run", "--rm", ...suiteLabelArgs(), "--network", "none", ...args], { env: t.env });

describe("policy denials through the docker CLI", () => {
  it("refuses a privileged container with a 403 message the CLI prints", async () => {
    const r = await runRm("--privileged", fixtureImage(), "true");
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(
      /Error response from daemon: berth proxy policy denies privileged containers \(deny\.privileged in .*policy\.yaml\)/,
    );
  });

  it("refuses host namespaces", async () => {
    const net = await docker(
      ["run", "--rm", ...suiteLabelArgs(), "--network", "host", fixtureImage(), "true"],
      {
        env: t.env,
      },
    );
    expect(net.stderr).toMatch(/policy denies containers in the host's network namespace/);
    const pid = await runRm("--pid", "host", fixtureImage(), "true");
    expect(pid.stderr).toMatch(/host's pid namespace/);
  });

  it("refuses bind mounts outside the allowed paths and allows those inside", async () => {
    const outside = await runRm("-v", "/etc:/host-etc:ro", fixtureImage(), "true");
    expect(outside.code).toBe(125);
    expect(outside.stderr).toMatch(/policy denies the bind mount of \/etc/);
    const sneaky = await runRm("-v", `${allowed}/../..:/up`, fixtureImage(), "true");
    expect(sneaky.stderr).toMatch(/policy denies the bind mount/);
    const inside = await runRm("-v", `${allowed}/data:/data`, fixtureImage(), "sh", "-c", "echo inside-ok");
    expect(inside).toMatchObject({ code: 0, stdout: "inside-ok\n" });
  });

  it("refuses a denied endpoint group (`docker build`)", async () => {
    const context = join(dir, "build");
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, "Dockerfile"), `FROM ${fixtureImage()}\n`);
    const r = await docker(["build", "-t", "berth-test-denied:1", context], { env: t.env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/policy denies the build endpoints/);
  });

  it("counts denials by rule in the metrics", () => {
    const { denials } = t.proxy.metrics();
    expect(denials.byRule).toMatchObject({
      privileged: 1,
      "host-namespace": 2,
      "bind-mount": 2,
      endpoint: 1,
    });
  });
});
