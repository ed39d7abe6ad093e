import { describe, expect, it } from "vitest";
import {
  contextDirName,
  describeEndpoint,
  parseDockerHost,
  resolveDockerEndpoint,
} from "../../src/engine/docker-host.js";
import { ConfigError } from "../../src/engine/errors.js";

/** A file system of in-memory files; a missing file throws ENOENT as readFileSync does. */
function files(map: Record<string, string>) {
  return (path: string): Buffer => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return Buffer.from(text);
  };
}

const none = files({});
const HOME = { HOME: "/home/u" };

/** A context as `docker context create` stores it under `configDir`. */
function context(
  configDir: string,
  name: string,
  host: string,
  options: { skipVerify?: boolean; tls?: Record<string, string> } = {},
): Record<string, string> {
  const id = contextDirName(name);
  const out: Record<string, string> = {
    [`${configDir}/contexts/meta/${id}/meta.json`]: JSON.stringify({
      Name: name,
      Metadata: {},
      Endpoints: { docker: { Host: host, SkipTLSVerify: options.skipVerify ?? false } },
    }),
  };
  for (const [file, text] of Object.entries(options.tls ?? {})) {
    out[`${configDir}/contexts/tls/${id}/docker/${file}`] = text;
  }
  return out;
}

describe("resolveDockerEndpoint: the order of the docker CLI", () => {
  it("defaults to the standard unix socket and says so", () => {
    const e = resolveDockerEndpoint(HOME, none);
    expect(e).toMatchObject({
      kind: "unix",
      socketPath: "/var/run/docker.sock",
      source: "the default socket",
    });
  });

  it("names the context directory by the sha256 of the context's name", () => {
    // The digest the docker CLI's store uses (`docker context inspect` shows it as MetadataPath).
    expect(contextDirName("default")).toBe(
      "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f",
    );
  });

  it("takes DOCKER_HOST over DOCKER_CONTEXT and the current context", () => {
    const fs = files({
      "/home/u/.docker/config.json": JSON.stringify({ currentContext: "cur" }),
      ...context("/home/u/.docker", "cur", "tcp://10.0.0.1:2375"),
      ...context("/home/u/.docker", "env", "tcp://10.0.0.2:2375"),
    });
    const e = resolveDockerEndpoint(
      { ...HOME, DOCKER_HOST: "unix:///run/x.sock", DOCKER_CONTEXT: "env" },
      fs,
    );
    expect(e).toMatchObject({ url: "unix:///run/x.sock", source: "DOCKER_HOST" });
    expect(e.context).toBeUndefined();
  });

  it("takes DOCKER_CONTEXT over the current context", () => {
    const fs = files({
      "/home/u/.docker/config.json": JSON.stringify({ currentContext: "cur" }),
      ...context("/home/u/.docker", "cur", "tcp://10.0.0.1:2375"),
      ...context("/home/u/.docker", "env", "tcp://10.0.0.2:2375"),
    });
    const e = resolveDockerEndpoint({ ...HOME, DOCKER_CONTEXT: "env" }, fs);
    expect(e).toMatchObject({
      kind: "tcp",
      host: "10.0.0.2",
      context: "env",
      source: "context env via DOCKER_CONTEXT",
    });
  });

  it("reads currentContext from DOCKER_CONFIG when it is set", () => {
    const fs = files({
      "/cfg/config.json": JSON.stringify({ currentContext: "ci" }),
      ...context("/cfg", "ci", "unix:///run/ci.sock"),
    });
    const e = resolveDockerEndpoint({ ...HOME, DOCKER_CONFIG: "/cfg" }, fs);
    expect(e).toMatchObject({
      kind: "unix",
      socketPath: "/run/ci.sock",
      context: "ci",
      source: "context ci via currentContext in /cfg/config.json",
    });
  });

  it("treats the context named default as the default socket", () => {
    const fs = files({ "/home/u/.docker/config.json": JSON.stringify({ currentContext: "default" }) });
    expect(resolveDockerEndpoint(HOME, fs)).toMatchObject({
      url: "unix:///var/run/docker.sock",
      context: "default",
    });
  });

  it("reads a context's TLS material and verifies unless SkipTLSVerify", () => {
    const fs = files(
      context("/home/u/.docker", "tls", "tcp://127.0.0.1:2376", {
        tls: { "ca.pem": "CA", "cert.pem": "CERT", "key.pem": "KEY" },
      }),
    );
    const e = resolveDockerEndpoint({ ...HOME, DOCKER_CONTEXT: "tls" }, fs);
    if (e.kind !== "tcp") throw new Error("expected tcp");
    expect(e.protocol).toBe("https");
    expect(e.tls).toMatchObject({
      verify: true,
      dir: `/home/u/.docker/contexts/tls/${contextDirName("tls")}/docker`,
    });
    expect([e.tls?.ca?.toString(), e.tls?.cert?.toString(), e.tls?.key?.toString()]).toEqual([
      "CA",
      "CERT",
      "KEY",
    ]);
    const skip = resolveDockerEndpoint(
      { ...HOME, DOCKER_CONTEXT: "s" },
      files(context("/home/u/.docker", "s", "tcp://127.0.0.1:2376", { skipVerify: true })),
    );
    expect(skip).toMatchObject({ protocol: "https", tls: { verify: false } });
  });

  it("speaks plain HTTP to a context's tcp host without TLS material, ignoring the TLS variables", () => {
    const fs = files(context("/home/u/.docker", "plain", "tcp://127.0.0.1:2375"));
    const e = resolveDockerEndpoint({ ...HOME, DOCKER_CONTEXT: "plain", DOCKER_TLS_VERIFY: "1" }, fs);
    expect(e).toMatchObject({ protocol: "http" });
  });

  it("refuses a context that does not exist, naming it, its source and the file it looked for", () => {
    const run = () => resolveDockerEndpoint({ ...HOME, DOCKER_CONTEXT: "gone" }, none);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/Docker context "gone" \(named by DOCKER_CONTEXT\) does not exist/);
    expect(run).toThrow(new RegExp(contextDirName("gone")));
  });

  it("refuses a malformed config.json naming the file", () => {
    const fs = files({ "/home/u/.docker/config.json": "{ nope" });
    expect(() => resolveDockerEndpoint(HOME, fs)).toThrow(
      /\/home\/u\/.docker\/config.json is not valid JSON/,
    );
  });
});

describe("resolveDockerEndpoint: DOCKER_HOST and TLS variables", () => {
  it("reads unix://, a bare path, tcp:// and a bare host:port", () => {
    expect(resolveDockerEndpoint({ DOCKER_HOST: "unix:///run/user/0/berth.sock" }, none)).toMatchObject({
      socketPath: "/run/user/0/berth.sock",
    });
    expect(resolveDockerEndpoint({ DOCKER_HOST: "/run/x.sock" }, none)).toMatchObject({ kind: "unix" });
    expect(resolveDockerEndpoint({ DOCKER_HOST: "tcp://127.0.0.1:2375" }, none)).toMatchObject({
      kind: "tcp",
      host: "127.0.0.1",
      port: 2375,
      protocol: "http",
    });
    expect(resolveDockerEndpoint({ DOCKER_HOST: "tcp://[::1]:2375" }, none)).toMatchObject({ host: "::1" });
    expect(resolveDockerEndpoint({ DOCKER_HOST: "docker:2376" }, none)).toMatchObject({
      host: "docker",
      port: 2376,
    });
  });

  it("uses TLS with verification and certificates from DOCKER_CERT_PATH when DOCKER_TLS_VERIFY is set", () => {
    const fs = files({ "/certs/ca.pem": "CA", "/certs/cert.pem": "CERT", "/certs/key.pem": "KEY" });
    const e = resolveDockerEndpoint(
      { DOCKER_HOST: "tcp://docker:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" },
      fs,
    );
    if (e.kind !== "tcp") throw new Error("expected tcp");
    expect(e).toMatchObject({ protocol: "https", port: 2376, source: "DOCKER_HOST" });
    expect(e.tls).toMatchObject({ verify: true, dir: "/certs" });
    expect(e.tls?.ca?.toString()).toBe("CA");
  });

  it("like the CLI, takes any non-empty DOCKER_TLS_VERIFY (even 0) as on, and defaults the port to 2375", () => {
    const fs = files({ "/c/ca.pem": "CA" });
    const e = resolveDockerEndpoint(
      { DOCKER_HOST: "tcp://h", DOCKER_TLS_VERIFY: "0", DOCKER_CERT_PATH: "/c" },
      fs,
    );
    expect(e).toMatchObject({ protocol: "https", port: 2375, tls: { verify: true } });
  });

  it("uses TLS without verification for DOCKER_TLS, and needs no ca.pem for it", () => {
    const e = resolveDockerEndpoint(
      { DOCKER_HOST: "tcp://h:2376", DOCKER_TLS: "1", DOCKER_CERT_PATH: "/c" },
      none,
    );
    expect(e).toMatchObject({ protocol: "https", tls: { verify: false } });
  });

  it("falls back from DOCKER_CERT_PATH to DOCKER_CONFIG, then ~/.docker", () => {
    const fs = files({ "/cfg/ca.pem": "CA", "/home/u/.docker/ca.pem": "HOME-CA" });
    const viaConfig = resolveDockerEndpoint(
      { ...HOME, DOCKER_HOST: "tcp://h:1", DOCKER_TLS_VERIFY: "1", DOCKER_CONFIG: "/cfg" },
      fs,
    );
    const viaHome = resolveDockerEndpoint({ ...HOME, DOCKER_HOST: "tcp://h:1", DOCKER_TLS_VERIFY: "1" }, fs);
    expect(viaConfig.kind === "tcp" && viaConfig.tls?.ca?.toString()).toBe("CA");
    expect(viaHome.kind === "tcp" && viaHome.tls?.ca?.toString()).toBe("HOME-CA");
  });

  it("refuses verification without a CA, and half a client pair, naming the files", () => {
    expect(() =>
      resolveDockerEndpoint(
        { DOCKER_HOST: "tcp://h:1", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/c" },
        none,
      ),
    ).toThrow(/DOCKER_TLS_VERIFY is set, but there is no CA certificate at \/c\/ca.pem/);
    const half = files({ "/c/ca.pem": "CA", "/c/cert.pem": "CERT" });
    expect(() =>
      resolveDockerEndpoint(
        { DOCKER_HOST: "tcp://h:1", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/c" },
        half,
      ),
    ).toThrow(/\/c holds cert.pem but no key.pem/);
  });

  it("ignores the TLS variables for a unix socket", () => {
    expect(
      resolveDockerEndpoint({ DOCKER_HOST: "unix:///x.sock", DOCKER_TLS_VERIFY: "1" }, none),
    ).toMatchObject({
      kind: "unix",
    });
  });

  it("parses ssh://user@host:port", () => {
    expect(resolveDockerEndpoint({ DOCKER_HOST: "ssh://ci@build.example:2222" }, none)).toMatchObject({
      kind: "ssh",
      user: "ci",
      host: "build.example",
      port: 2222,
    });
    expect(parseDockerHost("ssh://host", { source: "test" })).toMatchObject({ kind: "ssh", host: "host" });
  });

  it("refuses a malformed DOCKER_HOST with a config error naming it", () => {
    expect(() => resolveDockerEndpoint({ DOCKER_HOST: "ftp://x" }, none)).toThrow(ConfigError);
    expect(() => resolveDockerEndpoint({ DOCKER_HOST: "ftp://x" }, none)).toThrow(/DOCKER_HOST=ftp:\/\/x/);
    expect(() => resolveDockerEndpoint({ DOCKER_HOST: "npipe:////./pipe/docker" }, none)).toThrow(/npipe/);
    expect(() => resolveDockerEndpoint({ DOCKER_HOST: "tcp://h:99999" }, none)).toThrow(/outside 1-65535/);
  });

  it("describes an endpoint with where it came from", () => {
    expect(describeEndpoint(resolveDockerEndpoint({ DOCKER_HOST: "tcp://h:1" }, none))).toBe(
      "tcp://h:1 (DOCKER_HOST)",
    );
  });
});
