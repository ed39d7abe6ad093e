// The CLI's model cache against real files: a hit answers the cached resolution (shown by a
// poisoned entry: a warning only the cache holds), and each kind of input change is a miss that
// loads the files again and rewrites the entry.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  cachedResolver,
  loadCachedModel,
  modelCacheKey,
  modelCachePath,
  saveCachedModel,
} from "../../src/cli/model-cache.js";
import { inputsUnchanged, recordingReader } from "../../src/stack/compose/inputs.js";
import { reuseKey } from "../../src/stack/reuse/key.js";
import { type ResolveOptions, resolveProject } from "../../src/stack/up.js";

const root = mkdtempSync(join(tmpdir(), "berth-model-cache-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const POISON = "poisoned: only the cache says this";
let dir: string;
let env: Record<string, string | undefined>;
let run = 0;

function write(name: string, text: string): void {
  mkdirSync(join(dir, name, ".."), { recursive: true });
  writeFileSync(join(dir, name), text);
}

beforeEach(() => {
  dir = join(root, `p${run++}`);
  env = { XDG_RUNTIME_DIR: join(dir, "run"), GREETING: "hello" };
  mkdirSync(join(dir, "run"), { recursive: true });
  write(
    "compose.yaml",
    `name: mc
include:
  - inc/compose.yaml
x-berth:
  profile: limits.yml
secrets:
  token:
    file: ./token.txt
services:
  app:
    extends:
      file: base.yaml
      service: base
    image: busybox:\${TAG:-1.35}
    environment:
      GREETING: \${GREETING}
      MAYBE: \${MAYBE_UNSET:-fallback}
    env_file: [app.env]
    secrets: [token]
`,
  );
  write("base.yaml", "services:\n  base:\n    command: [sleep, '1']\n");
  write(
    "inc/compose.yaml",
    `services:\n  side:\n    image: busybox\n    environment:\n      X: \${INC_VAR:-a}\n`,
  );
  write("inc/.env", "INC_VAR=b\n");
  write(".env", "TAG=1.36\n");
  write("app.env", "A=1\n");
  write("limits.yml", "limits:\n  app: 64m\n");
  write("token.txt", "s\n");
});

const options = (extra: Partial<ResolveOptions> = {}): ResolveOptions => ({ files: [], cwd: dir, ...extra });

function entryPath(extra: Partial<ResolveOptions> = {}): string {
  return modelCachePath(modelCacheKey(options(extra)), env)!;
}

/** Loads through the cache once (a miss that writes the entry), then poisons the entry. */
async function cachedAndPoisoned(extra: Partial<ResolveOptions> = {}): Promise<void> {
  const first = await cachedResolver(env)(options(extra));
  expect(first.warnings).not.toContain(POISON);
  const path = entryPath(extra);
  const entry = deserialize(readFileSync(path)) as { resolved: { warnings: string[] } };
  entry.resolved.warnings.push(POISON);
  writeFileSync(path, serialize(entry));
}

const resolveAgain = (extra: Partial<ResolveOptions> = {}) => cachedResolver(env)(options(extra));

describe("model cache", () => {
  it("answers an unchanged load from the entry, with the files' limit profile", async () => {
    await cachedAndPoisoned();
    const hit = await resolveAgain();
    expect(hit.warnings).toContain(POISON);
    expect(hit.project.services.app?.image).toBe("busybox:1.36");
    expect(hit.fileLimitProfile?.rules[0]?.pattern).toBe("app");
    expect(statSync(entryPath()).mode & 0o777).toBe(0o600);
  });

  it("gives back what a fresh load gives: same project, same reuse key", async () => {
    const fresh = await resolveProject({ ...options(), env });
    await resolveAgain();
    const cached = await resolveAgain();
    expect(cached).toEqual(fresh);
    const key = (p: typeof fresh.project) =>
      reuseKey({
        project: p,
        imageIds: { app: "sha256:1", side: "sha256:2" },
        berthVersion: "1",
        options: {},
      });
    expect(key(cached.project)).toBe(key(fresh.project));
  });

  const changes: [string, () => void, (r: Awaited<ReturnType<typeof resolveAgain>>) => void][] = [
    [
      "a compose file's bytes",
      () =>
        write(
          "compose.yaml",
          readFileSync(join(dir, "compose.yaml"), "utf8").replace("name: mc", "name: mc2"),
        ),
      (r) => expect(r.project.name).toBe("mc2"),
    ],
    [
      "an extends file",
      () => write("base.yaml", "services:\n  base:\n    command: [sleep, '2']\n"),
      (r) => expect(r.project.services.app?.command).toEqual(["sleep", "2"]),
    ],
    [
      "an included file",
      () => write("inc/compose.yaml", "services:\n  side:\n    image: busybox:2\n"),
      (r) => expect(r.project.services.side?.image).toBe("busybox:2"),
    ],
    [
      "the included project's .env",
      () => write("inc/.env", "INC_VAR=c\n"),
      (r) => expect(r.project.services.side?.environment.X).toBe("c"),
    ],
    [".env", () => write(".env", "TAG=9\n"), (r) => expect(r.project.services.app?.image).toBe("busybox:9")],
    [
      ".env disappearing",
      () => rmSync(join(dir, ".env")),
      (r) => expect(r.project.services.app?.image).toBe("busybox:1.35"),
    ],
    [
      "an env_file",
      () => write("app.env", "A=2\n"),
      (r) => expect(r.project.services.app?.environment.A).toBe("2"),
    ],
    [
      "the limit profile file x-berth names",
      () => write("limits.yml", "limits:\n  side: 32m\n"),
      (r) => expect(r.fileLimitProfile?.rules[0]?.pattern).toBe("side"),
    ],
    ["a secret file's existence", () => rmSync(join(dir, "token.txt")), () => {}],
    [
      "a variable's value",
      () => (env.GREETING = "bye"),
      (r) => expect(r.project.services.app?.environment.GREETING).toBe("bye"),
    ],
    [
      "a variable becoming unset",
      () => delete env.GREETING,
      (r) => expect(r.warnings.join()).toMatch(/GREETING/),
    ],
    [
      "a variable becoming set",
      () => (env.MAYBE_UNSET = "now"),
      (r) => expect(r.project.services.app?.environment.MAYBE).toBe("now"),
    ],
    [
      "a variable the environment now gives over .env",
      () => (env.TAG = "env"),
      (r) => expect(r.project.services.app?.image).toBe("busybox:env"),
    ],
    [
      "a default file appearing",
      () => write("compose.override.yaml", "services:\n  app:\n    labels: {o: '1'}\n"),
      (r) => expect(r.project.services.app?.labels.o).toBe("1"),
    ],
    [
      "COMPOSE_FILE",
      () => {
        write("other.yaml", "services:\n  only:\n    image: busybox\n");
        env.COMPOSE_FILE = join(dir, "other.yaml");
      },
      (r) => expect(Object.keys(r.project.services)).toEqual(["only"]),
    ],
    ["COMPOSE_PROFILES", () => (env.COMPOSE_PROFILES = "x"), () => {}],
  ];
  for (const [what, change, check] of changes) {
    it(`misses when ${what} changed, loads again and rewrites the entry`, async () => {
      await cachedAndPoisoned();
      change();
      let result: Awaited<ReturnType<typeof resolveAgain>> | undefined;
      try {
        result = await resolveAgain();
      } catch (error) {
        // The change made the files invalid (the secret file gone): the load said so, no entry used.
        expect(what).toBe("a secret file's existence");
        expect((error as Error).message).toMatch(/token.txt/);
        return;
      }
      expect(result.warnings).not.toContain(POISON);
      check(result);
      // The entry now holds the new load: a hit again, unpoisoned.
      expect((await resolveAgain()).warnings).not.toContain(POISON);
    });
  }

  it("keys on the options: other profiles or services are another entry", async () => {
    await cachedAndPoisoned();
    expect((await resolveAgain({ services: ["side"] })).warnings).not.toContain(POISON);
    expect((await resolveAgain({ profiles: ["p"] })).warnings).not.toContain(POISON);
    expect(entryPath({ services: ["side"] })).not.toBe(entryPath());
    const context = { cwd: dir, home: "/h", version: "1.0.0" };
    expect(modelCacheKey(options(), context)).not.toBe(
      modelCacheKey(options(), { ...context, version: "1.0.1" }),
    );
    expect(modelCacheKey(options(), context)).not.toBe(modelCacheKey(options(), { ...context, home: "/g" }));
  });

  it("misses on a corrupt, foreign, group-writable or other-key entry", async () => {
    await cachedAndPoisoned();
    const path = entryPath();
    const good = readFileSync(path);
    const key = modelCacheKey(options());
    expect(loadCachedModel(path, key, env)?.warnings).toContain(POISON);
    expect(loadCachedModel(path, "other", env)).toBeUndefined();
    chmodSync(path, 0o620);
    expect(loadCachedModel(path, key, env)).toBeUndefined();
    chmodSync(path, 0o600);
    writeFileSync(path, good.subarray(0, good.length >> 1));
    expect(loadCachedModel(path, key, env)).toBeUndefined();
    writeFileSync(
      path,
      serialize({ format: "berth-model-cache/1", key, inputs: { files: "x" }, resolved: {} }),
    );
    expect(loadCachedModel(path, key, env)).toBeUndefined();
    writeFileSync(path, "not v8 at all");
    const again = await resolveAgain();
    expect(again.warnings).not.toContain(POISON);
    expect(again.project.services.app).toBeDefined();
    // Rewritten: sound again.
    expect(loadCachedModel(path, key, env)).toBeDefined();
    expect(loadCachedModel(path, key, env, Date.now() + 8 * 24 * 3600_000)).toBeUndefined();
  });

  it("BERTH_MODEL_CACHE=off reads and writes nothing", async () => {
    env.BERTH_MODEL_CACHE = "off";
    expect(modelCachePath("k", env)).toBeUndefined();
    const result = await resolveAgain();
    expect(result.project.services.app?.environment.GREETING).toBe("hello");
    delete env.BERTH_MODEL_CACHE;
    expect(() => statSync(entryPath())).toThrow();
  });

  it("records what the load read, and refuses to vouch for a file that changed mid-load", async () => {
    const recording = recordingReader();
    await resolveProject({ ...options(), env }, recording.reader);
    const inputs = recording.inputs()!;
    const files = inputs.files.map(([path]) => path.slice(dir.length + 1));
    expect(files).toEqual(
      expect.arrayContaining([
        "compose.yaml",
        "base.yaml",
        "inc/compose.yaml",
        "inc/.env",
        ".env",
        "app.env",
        "limits.yml",
      ]),
    );
    expect(inputs.probes).toContainEqual([join(dir, "token.txt"), true]);
    expect(inputs.probes).toContainEqual([join(dir, "compose.override.yaml"), false]);
    expect(inputs.variables).toContainEqual(["MAYBE_UNSET", null]);
    expect(inputs.variables).toContainEqual(["GREETING", "hello"]);
    expect(inputsUnchanged(inputs, env)).toBe(true);
    expect(inputsUnchanged(inputs, { ...env, GREETING: "" })).toBe(false);
    const twice = recordingReader();
    twice.reader.readFileSync(join(dir, "app.env"));
    write("app.env", "A=3\n");
    twice.reader.readFileSync(join(dir, "app.env"));
    expect(twice.inputs()).toBeUndefined();
    saveCachedModel(join(dir, "run", "x", "model-00.bin"), "k", inputs, {
      project: {} as never,
      warnings: [],
    });
    expect(statSync(join(dir, "run", "x")).mode & 0o777).toBe(0o700);
  });
});
