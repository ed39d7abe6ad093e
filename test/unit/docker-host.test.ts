import { describe, expect, it } from "vitest";
import { resolveDockerEndpoint } from "../../src/engine/docker-host.js";
import { ConfigError } from "../../src/engine/errors.js";

describe("resolveDockerEndpoint", () => {
  it("defaults to the standard unix socket", () => {
    expect(resolveDockerEndpoint({})).toMatchObject({ kind: "unix", socketPath: "/var/run/docker.sock" });
  });
  it("reads unix:// and tcp:// hosts", () => {
    expect(resolveDockerEndpoint({ DOCKER_HOST: "unix:///run/user/0/berth.sock" })).toMatchObject({
      socketPath: "/run/user/0/berth.sock",
    });
    expect(resolveDockerEndpoint({ DOCKER_HOST: "tcp://127.0.0.1:2375" })).toMatchObject({
      kind: "tcp",
      host: "127.0.0.1",
      port: 2375,
      protocol: "http",
    });
    expect(resolveDockerEndpoint({ DOCKER_HOST: "tcp://[::1]:2375" })).toMatchObject({ host: "::1" });
  });
  it("uses TLS with certificates from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set", () => {
    const read = (p: string) => Buffer.from(p);
    const e = resolveDockerEndpoint(
      { DOCKER_HOST: "tcp://127.0.0.1", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" },
      read,
    );
    expect(e).toMatchObject({ protocol: "https", port: 2376 });
    if (e.kind !== "tcp") throw new Error("expected tcp");
    expect(e.tls?.ca?.toString()).toBe("/certs/ca.pem");
    expect(e.tls?.verify).toBe(true);
  });
  it("refuses a malformed DOCKER_HOST with a config error naming it", () => {
    expect(() => resolveDockerEndpoint({ DOCKER_HOST: "ftp://x" })).toThrow(ConfigError);
    expect(() => resolveDockerEndpoint({ DOCKER_HOST: "ftp://x" })).toThrow(/DOCKER_HOST=ftp:\/\/x/);
  });
});
