import { describe, expect, it } from "vitest";
import { defineProject } from "../../src/stack/builder.js";
import { containerConfig, healthcheckConfig, portBindings } from "../../src/stack/container-config.js";
import { STACK_LABELS } from "../../src/stack/stack-labels.js";

const base = {
  name: "p-api-1",
  image: "img",
  labels: { "berth.session": "s1" },
  volumeLabels: { "berth.session": "s1", [STACK_LABELS.volumeKind]: "anonymous" },
  volumeNames: { data: "p_data" },
  networks: [
    { name: "p_default", aliases: ["api"] },
    { name: "p_back", aliases: ["api", "backend"] },
  ],
  memory: { Memory: 64 * 1024 * 1024, MemorySwap: 64 * 1024 * 1024 },
  oneShot: false,
};

describe("containerConfig", () => {
  const project = defineProject({
    services: {
      api: {
        image: "img",
        command: ["httpd", "-f"],
        environment: { A: "1" },
        ports: [8080, "5432:5432", "127.0.0.2:53:53/udp"],
        expose: [9000],
        dependsOn: { db: "service_healthy", migrate: "service_completed_successfully" },
        stopGracePeriodMs: 2500,
        stopSignal: "SIGINT",
        labels: { team: "x", "berth.session": "spoofed" },
        volumes: [
          { type: "volume", source: "data", target: "/data", readOnly: false },
          { type: "anonymous", target: "/cache", readOnly: false },
          { type: "bind", source: "/host", target: "/mnt", readOnly: true },
          { type: "tmpfs", target: "/tmp", sizeBytes: 1024 },
        ],
      },
      db: { image: "img" },
      migrate: { image: "img" },
    },
  });
  const { body, laterNetworks } = containerConfig(project.services.api!, base);

  it("publishes on 127.0.0.1 with dynamic host ports unless one is fixed", () => {
    expect(body.HostConfig.PortBindings).toEqual({
      "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }],
      "5432/tcp": [{ HostIp: "127.0.0.1", HostPort: "5432" }],
      "53/udp": [{ HostIp: "127.0.0.2", HostPort: "53" }],
    });
    expect(Object.keys(body.ExposedPorts).sort()).toEqual(["53/udp", "5432/tcp", "8080/tcp", "9000/tcp"]);
  });

  it("lets ownership labels win over the file's and records the dependencies for down", () => {
    expect(body.Labels["berth.session"]).toBe("s1");
    expect(body.Labels.team).toBe("x");
    expect(body.Labels[STACK_LABELS.dependsOn]).toBe("db,migrate");
    expect(body.Labels[STACK_LABELS.oneShot]).toBeUndefined();
  });

  it("mounts named volumes by project name and labels anonymous ones", () => {
    const mounts = body.HostConfig.Mounts as Record<string, unknown>[];
    expect(mounts).toContainEqual({ Type: "volume", Source: "p_data", Target: "/data", ReadOnly: false });
    expect(mounts).toContainEqual({
      Type: "volume",
      Target: "/cache",
      ReadOnly: false,
      VolumeOptions: { Labels: base.volumeLabels },
    });
    expect(mounts).toContainEqual({ Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 1024 } });
    expect(body.HostConfig.Binds).toEqual(["/host:/mnt:ro"]);
  });

  it("attaches the first network at create with aliases and the rest later", () => {
    expect(body.HostConfig.NetworkMode).toBe("p_default");
    expect(body.NetworkingConfig).toEqual({ EndpointsConfig: { p_default: { Aliases: ["api"] } } });
    expect(laterNetworks).toEqual([{ name: "p_back", aliases: ["api", "backend"] }]);
  });

  it("carries memory, stop signal and grace (rounded up to seconds)", () => {
    expect(body.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(body.HostConfig.MemorySwap).toBe(64 * 1024 * 1024);
    expect(body.StopSignal).toBe("SIGINT");
    expect(body.StopTimeout).toBe(3);
    expect(body.Env).toEqual(["A=1"]);
    expect(body.Cmd).toEqual(["httpd", "-f"]);
    expect(body.HostConfig.RestartPolicy).toEqual({ Name: "no" });
  });

  it("marks one-shot services", () => {
    const oneShot = containerConfig(project.services.migrate!, { ...base, oneShot: true });
    expect(oneShot.body.Labels[STACK_LABELS.oneShot]).toBe("true");
  });
});

describe("healthcheckConfig", () => {
  it("converts milliseconds to nanoseconds and keeps the test", () => {
    expect(
      healthcheckConfig({
        test: ["CMD", "true"],
        intervalMs: 500,
        timeoutMs: 1000,
        retries: 3,
        startPeriodMs: 0,
      }),
    ).toEqual({
      Test: ["CMD", "true"],
      Interval: 500_000_000,
      Timeout: 1_000_000_000,
      Retries: 3,
      StartPeriod: 0,
    });
  });
  it("turns a disabled healthcheck into NONE", () => {
    expect(healthcheckConfig({ test: ["CMD", "true"], disable: true })).toEqual({ Test: ["NONE"] });
    expect(healthcheckConfig(undefined)).toBeUndefined();
  });
});

describe("portBindings", () => {
  it("groups several host bindings of one container port", () => {
    expect(
      portBindings([
        { target: 80, protocol: "tcp" },
        { target: 80, published: 8080, protocol: "tcp" },
      ]),
    ).toEqual({
      "80/tcp": [
        { HostIp: "127.0.0.1", HostPort: "" },
        { HostIp: "127.0.0.1", HostPort: "8080" },
      ],
    });
  });
});
