// Pulls from a real registry (docker-registry with an htpasswd user) through a fault relay:
// credentials from a config file and from a credential helper, a wrong password, Retry-After,
// 503s, a reset in the middle of a layer, an unknown tag, pull_policy never, and `berth pull`.
// Secrets never appear in errors, JSON or the debug log.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CredentialsError,
  ImageMissingError,
  ImageNotFoundError,
  RegistryAuthError,
} from "../../src/images/errors.js";
import { ensureImage } from "../../src/images/pull.js";
import type { ImageProgress } from "../../src/images/pull-progress.js";
import { defineProject } from "../../src/stack/builder.js";
import { up } from "../../src/stack/up.js";
import {
  dockerConfigDir,
  loginEntry,
  pushUniqueImage,
  REGISTRY_USER,
  type RegistryRelay,
  removeLocalImage,
  startRegistry,
  startRegistryRelay,
  type TestRegistry,
} from "./registry-support.js";
import { berthProcess, composeDir } from "./stack-fixtures.js";
import { engine } from "./support.js";

let registry: TestRegistry;
let relay: RegistryRelay;
let image: string;
const REPO = "berth-test/app";

beforeAll(async () => {
  registry = await startRegistry();
  relay = await startRegistryRelay(registry.host);
  image = `${relay.host}/${REPO}:1`;
  await pushUniqueImage(image, registry.password);
}, 180_000);

afterEach(async () => {
  relay.decide = () => ({ kind: "pass" });
  await removeLocalImage(image);
});

afterAll(async () => {
  await removeLocalImage(image);
  await relay?.close();
  await registry?.stop();
});

function withLogin(password = registry.password) {
  return dockerConfigDir({ auths: { [`http://${relay.host}`]: loginEntry(password) } });
}

function secretsIn(text: string, password: string): string[] {
  const basic = Buffer.from(`${REGISTRY_USER}:${password}`).toString("base64");
  return [password, basic].filter((s) => text.includes(s));
}

describe("credentials", () => {
  it("pulls with the login from a DOCKER_CONFIG config file", async () => {
    const config = withLogin();
    try {
      const pulled = await ensureImage(engine, image, { env: { DOCKER_CONFIG: config.dir } });
      expect(pulled.pulled).toBe(true);
      expect((await engine.inspectImage(image)).Id).toBe(pulled.imageId);
    } finally {
      config.remove();
    }
  });

  it("a wrong password is a clear 401 error that names registry and image, leaves nothing and prints no secret", async () => {
    const wrong = `wrong-${registry.password.slice(3)}`;
    const config = withLogin(wrong);
    const before = relay.manifestFetches(REPO, "1");
    try {
      const error = await ensureImage(engine, image, { env: { DOCKER_CONFIG: config.dir } }).catch((e) => e);
      expect(error).toBeInstanceOf(RegistryAuthError);
      expect(error.message).toContain(image);
      expect(error.message).toContain(relay.host);
      expect(error.hint).toContain(`docker login ${relay.host}`);
      // Refusals are not retried: one manifest request for the one pull.
      expect(relay.manifestFetches(REPO, "1") - before).toBeLessThanOrEqual(2);
      expect(await engine.findImage(image)).toBeUndefined();
      const text = [inspect(error, { depth: 10 }), JSON.stringify(error)].join("\n");
      expect(secretsIn(text, wrong)).toEqual([]);

      // The CLI's error, its JSON and its debug log of every engine call carry no secret either.
      const dir = composeDir();
      try {
        dir.file("compose.yaml", `services:\n  app:\n    image: ${image}\n`);
        for (const args of [
          ["pull", "--verbose"],
          ["pull", "--json"],
        ]) {
          const ran = await berthProcess(args, dir.dir, { DOCKER_CONFIG: config.dir, BERTH_LOG: "debug" });
          expect(ran.code, ran.stderr).toBe(1);
          expect(`${ran.stdout}${ran.stderr}`).toContain("BERTH_REGISTRY_AUTH");
          expect(secretsIn(`${ran.stdout}${ran.stderr}`, wrong)).toEqual([]);
        }
      } finally {
        dir.remove();
      }
    } finally {
      config.remove();
    }
  });

  it("asks the credential helper docker-credential-test named by credHelpers", async () => {
    const bin = mkdtempSync(join(tmpdir(), "berth-cred-helper-"));
    const asked = join(bin, "asked");
    writeFileSync(
      join(bin, "docker-credential-test"),
      `#!/bin/sh\nread server\necho "$server" > ${asked}\nprintf '{"ServerURL":"%s","Username":"${REGISTRY_USER}","Secret":"${registry.password}"}' "$server"\n`,
    );
    chmodSync(join(bin, "docker-credential-test"), 0o755);
    const config = dockerConfigDir({ credHelpers: { [relay.host]: "test" } });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const pulled = await ensureImage(engine, image, { env: { DOCKER_CONFIG: config.dir } });
      expect(pulled.pulled).toBe(true);
      expect(existsSync(asked)).toBe(true);
    } finally {
      process.env.PATH = path;
      config.remove();
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("a credsStore whose helper is not installed is a clear error naming it", async () => {
    const config = dockerConfigDir({ credsStore: "berth-absent" });
    try {
      const error = await ensureImage(engine, image, { env: { DOCKER_CONFIG: config.dir } }).catch((e) => e);
      expect(error).toBeInstanceOf(CredentialsError);
      expect(error.message).toContain("docker-credential-berth-absent");
      expect(error.message).toContain("not installed");
      expect(error.exitCode).toBe(2);
    } finally {
      config.remove();
    }
  });
});

describe("registry faults", () => {
  let config: ReturnType<typeof withLogin>;
  beforeAll(() => {
    config = withLogin();
  });
  afterAll(() => config.remove());

  const pull = (events: ImageProgress[] = []) =>
    ensureImage(engine, image, { env: { DOCKER_CONFIG: config.dir }, onProgress: (p) => events.push(p) });

  it("waits for a 429's Retry-After, then pulls", async () => {
    // Rate-limited for the next 2 s, as a registry's window: every manifest request in it gets 429.
    const until = Date.now() + 2_000;
    relay.decide = ({ kind }) =>
      kind === "manifest" && Date.now() < until
        ? {
            kind: "status",
            status: 429,
            headers: { "Retry-After": String(Math.ceil((until - Date.now()) / 1000)) },
            body: JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS", message: "slow down (relay)" }] }),
          }
        : { kind: "pass" };
    const events: ImageProgress[] = [];
    expect((await pull(events)).pulled).toBe(true);
    const retry = events.find((e) => e.phase === "retrying");
    expect(retry?.reason).toMatch(/^rate-limited/);
    // The registry's Retry-After (1 or 2 s, whatever was left of the window), not the first backoff.
    expect(retry?.delayMs).toBeGreaterThanOrEqual(1000);
  });

  it("retries 503 twice, then pulls", async () => {
    let failed = 0;
    relay.decide = ({ kind }) =>
      kind === "manifest" && failed++ < 2 ? { kind: "status", status: 503 } : { kind: "pass" };
    const events: ImageProgress[] = [];
    expect((await pull(events)).pulled).toBe(true);
    expect(failed).toBeGreaterThan(2);
    expect(events.filter((e) => e.phase === "retrying").every((e) => e.reason?.startsWith("transient"))).toBe(
      true,
    );
    expect(events.some((e) => e.phase === "retrying")).toBe(true);
  });

  it("survives a connection reset in the middle of a layer", async () => {
    let resets = 0;
    relay.decide = ({ kind, method }) =>
      kind === "blob" && method === "GET" && resets++ === 0
        ? { kind: "reset-mid-body", afterBytes: 256 * 1024 }
        : { kind: "pass" };
    const events: ImageProgress[] = [];
    expect((await pull(events)).pulled).toBe(true);
    expect(relay.requests.filter((r) => r.action === "reset-mid-body")).toHaveLength(1);
    expect(await engine.findImage(image)).toBeDefined();
  });

  it("an unknown tag is ImageNotFoundError at once, not retried", async () => {
    const events: ImageProgress[] = [];
    const error = await ensureImage(engine, `${relay.host}/${REPO}:nope`, {
      env: { DOCKER_CONFIG: config.dir },
      onProgress: (p) => events.push(p),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ImageNotFoundError);
    expect(error.hint).toContain("tag (nope)");
    expect(events.some((e) => e.phase === "retrying")).toBe(false);
  });

  it("pull_policy never with a missing image is ImageMissingError, and nothing is pulled", async () => {
    const before = relay.requests.length;
    const error = await up({
      spec: defineProject({ services: { app: { image, pullPolicy: "never" } } }),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ImageMissingError);
    expect(error.message).toContain(`${image} (service app)`);
    expect(relay.requests.length).toBe(before);
  });
});

describe("berth pull", () => {
  it("prints the pull's progress and leaves the image present", async () => {
    const config = withLogin();
    const dir = composeDir();
    try {
      dir.file("compose.yaml", `services:\n  app:\n    image: ${image}\n  other:\n    image: ${image}\n`);
      const ran = await berthProcess(["pull"], dir.dir, { DOCKER_CONFIG: config.dir });
      expect(ran.code ?? 0, ran.stderr).toBe(0);
      expect(ran.stderr).toContain(`image ${image}: pulling`);
      expect(ran.stderr).toMatch(new RegExp(`image ${image.replace(/[.:/]/g, "\\$&")}: pulled \\(`));
      expect(ran.stdout).toMatch(/pulled/);
      expect(ran.stdout).toContain("app, other");
      expect(await engine.findImage(image)).toBeDefined();
    } finally {
      dir.remove();
      config.remove();
    }
  });
});
