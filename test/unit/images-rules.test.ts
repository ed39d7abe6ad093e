// The images layer's pure rules: references, config keys, credentials from a config file, pull
// policies, what a failed pull means, Retry-After, pull progress, and secret redaction.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/engine/errors.js";
import {
  credentialsFor,
  dockerConfigPath,
  encodeRegistryAuth,
  readDockerConfig,
} from "../../src/images/credentials.js";
import { CredentialsError } from "../../src/images/errors.js";
import { parsePullOption, pullAction, pullPolicyOf } from "../../src/images/policy.js";
import { isRetryable, pullFailureKind } from "../../src/images/pull-failure.js";
import { PullTally } from "../../src/images/pull-progress.js";
import { canonicalReference, hostOfConfigKey, parseImageReference } from "../../src/images/reference.js";
import { parseRetryAfter, registryBaseUrl } from "../../src/images/retry-after.js";
import { containsSecret, redactSecrets } from "../../src/images/secrets.js";

describe("image references", () => {
  it.each([
    ["redis", "docker.io", "library/redis", undefined],
    ["redis:7", "docker.io", "library/redis", "7"],
    ["team/app:1.2", "docker.io", "team/app", "1.2"],
    ["index.docker.io/team/app", "docker.io", "team/app", undefined],
    ["ghcr.io/team/app:1", "ghcr.io", "team/app", "1"],
    ["127.0.0.1:5000/x/y:t", "127.0.0.1:5000", "x/y", "t"],
    ["localhost/app", "localhost", "app", undefined],
  ])("%s is %s / %s", (raw, registry, repository, tag) => {
    const ref = parseImageReference(raw);
    expect([ref.registry, ref.repository, ref.tag]).toEqual([registry, repository, tag]);
  });

  it("keeps a digest and makes the default tag explicit", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(parseImageReference(`redis@${digest}`).digest).toBe(digest);
    expect(canonicalReference(parseImageReference("redis"))).toBe("redis:latest");
    expect(canonicalReference(parseImageReference("127.0.0.1:5000/x"))).toBe("127.0.0.1:5000/x:latest");
  });

  it("refuses a malformed reference naming it", () => {
    expect(() => parseImageReference("Team/App")).toThrow(ConfigError);
    expect(() => parseImageReference("")).toThrow(/empty/);
  });

  it("matches config keys by host, with Docker Hub's aliases", () => {
    expect(hostOfConfigKey("https://index.docker.io/v1/")).toBe("docker.io");
    expect(hostOfConfigKey("registry-1.docker.io")).toBe("docker.io");
    expect(hostOfConfigKey("https://ghcr.io/v1/")).toBe("ghcr.io");
    expect(hostOfConfigKey("http://127.0.0.1:5000")).toBe("127.0.0.1:5000");
  });
});

describe("credentials from a config file", () => {
  const withConfig = (config: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), "berth-unit-config-"));
    writeFileSync(join(dir, "config.json"), typeof config === "string" ? config : JSON.stringify(config));
    return {
      dir,
      config: () => readDockerConfig(dockerConfigPath({ DOCKER_CONFIG: dir })),
      remove: () => rmSync(dir, { recursive: true }),
    };
  };

  it("reads base64 auth, identity tokens and Docker Hub's key", async () => {
    const auth = Buffer.from("me:pa:ss").toString("base64");
    const c = withConfig({
      auths: {
        "https://index.docker.io/v1/": { auth },
        "https://ghcr.io": { identitytoken: "tok-123456" },
      },
    });
    try {
      expect(await credentialsFor("docker.io", c.config())).toEqual({
        username: "me",
        password: "pa:ss",
        serveraddress: "https://index.docker.io/v1/",
      });
      expect(await credentialsFor("ghcr.io", c.config())).toEqual({
        identitytoken: "tok-123456",
        serveraddress: "ghcr.io",
      });
      expect(await credentialsFor("quay.io", c.config())).toBeUndefined();
    } finally {
      c.remove();
    }
  });

  it("a missing file is anonymous; a malformed one is a CredentialsError naming it", () => {
    expect(readDockerConfig("/nonexistent/berth/config.json")).toBeUndefined();
    const c = withConfig("{not json");
    try {
      expect(() => c.config()).toThrow(CredentialsError);
      expect(() => c.config()).toThrow(c.dir);
    } finally {
      c.remove();
    }
  });

  it("encodes the header as padded URL-safe base64 and remembers it as a secret", () => {
    const header = encodeRegistryAuth({ username: "u", password: "secret-pw", serveraddress: "r" });
    expect(JSON.parse(Buffer.from(header, "base64").toString("utf8"))).toMatchObject({
      password: "secret-pw",
    });
    expect(header).not.toMatch(/[+/]/);
    expect(containsSecret(`x ${header} y`)).toBe(true);
    expect(redactSecrets("the secret-pw and more")).toBe("the *** and more");
  });
});

describe("pull policy", () => {
  it("reads Compose's spellings and --pull", () => {
    expect(pullPolicyOf("if_not_present")).toBe("missing");
    expect(pullPolicyOf("bogus")).toBeUndefined();
    expect(parsePullOption(true)).toBe("always");
    expect(parsePullOption(false)).toBe("never");
    expect(() => parsePullOption("build")).toThrow(/--pull/);
  });

  it("decides per policy and presence", () => {
    expect(pullAction("missing", true)).toBe("use-local");
    expect(pullAction("missing", false)).toBe("pull");
    expect(pullAction("always", true)).toBe("pull");
    expect(pullAction("never", false)).toBe("missing");
  });
});

describe("what a failed pull means", () => {
  it.each([
    ["toomanyrequests: You have reached your pull rate limit", "rate-limited"],
    ["received unexpected HTTP status: 503 Service Unavailable", "transient"],
    ["read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer", "transient"],
    ["image.pull x: the pull stream ended early (no final status)", "transient"],
    ["unauthorized: authentication required", "auth"],
    ['Head "http://r/v2/x/manifests/1": no basic auth credentials', "auth"],
    ["pull access denied for x, repository does not exist or may require 'docker login'", "auth"],
    ["manifest for r/x:nope not found: manifest unknown: manifest unknown", "not-found"],
    ["invalid reference format", "other"],
  ])("%s -> %s", (message, kind) => {
    expect(pullFailureKind(message)).toBe(kind);
  });

  it("retries only rate limits and transient failures", () => {
    expect(isRetryable("rate-limited")).toBe(true);
    expect(isRetryable("transient")).toBe(true);
    expect(isRetryable("auth")).toBe(false);
    expect(isRetryable("not-found")).toBe(false);
  });
});

describe("Retry-After and the registry's address", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("asks loopback registries over HTTP and Docker Hub at registry-1", () => {
    expect(registryBaseUrl("127.0.0.1:5000")).toBe("http://127.0.0.1:5000");
    expect(registryBaseUrl("docker.io")).toBe("https://registry-1.docker.io");
    expect(registryBaseUrl("ghcr.io")).toBe("https://ghcr.io");
  });
});

describe("pull progress", () => {
  it("counts layers and bytes from the daemon's lines", () => {
    const tally = new PullTally();
    tally.add({ status: "Pulling from x", id: "1" });
    tally.add({ status: "Already exists", id: "a" });
    tally.add({ status: "Downloading", id: "b", progressDetail: { current: 50, total: 200 } });
    expect(tally.summary()).toEqual({ layers: { done: 1, total: 2 }, bytes: { current: 50, total: 200 } });
    tally.add({ status: "Pull complete", id: "b" });
    expect(tally.summary()).toEqual({ layers: { done: 2, total: 2 }, bytes: { current: 200, total: 200 } });
  });
});
