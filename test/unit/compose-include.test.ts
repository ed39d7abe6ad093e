// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose's ${VAR} syntax is what these strings test.
// `include`: an included file is a project of its own. Its services resolve bare
// `environment: [NAME]` entries, env files and a default build context in its own directory and
// `.env`; as in Compose, a variable the including project knows wins over the included `.env`.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCompose } from "../../src/stack/compose/index.js";
import { projectDir } from "./compose-support.js";

/** A project whose compose.yaml includes sub/compose.yaml; `files` are written below the root. */
function project(files: Record<string, string>): string {
  const dir = projectDir({});
  mkdirSync(join(dir, "sub"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

const INCLUDED = [
  "services:",
  "  cache:",
  "    image: redis:${REDIS_TAG}",
  "    environment: [MAXMEMORY, POLICY, ONLY_TOP]",
  "    build: {}",
  '    labels: { policy: "${POLICY}" }',
  "",
].join("\n");

describe("an included project's variables", () => {
  it("resolves bare environment names from the included .env", async () => {
    const dir = project({
      "compose.yaml": "include: [sub/compose.yaml]\nservices:\n  app:\n    image: app\n",
      "sub/compose.yaml": INCLUDED,
      "sub/.env": "MAXMEMORY=64mb\nPOLICY=allkeys-lru\nREDIS_TAG=7\n",
      "sub/Dockerfile": "FROM scratch\n",
    });
    const { project: loaded } = await loadCompose({ files: [], cwd: dir, env: {} });
    const cache = loaded.services.cache!;
    expect(cache.environment).toEqual({ MAXMEMORY: "64mb", POLICY: "allkeys-lru" });
    expect(cache.image).toBe("redis:7");
    expect(cache.labels).toEqual({ policy: "allkeys-lru" });
    // The default build context is the included project's directory, not the including one's.
    expect(cache.build!.context).toBe(join(dir, "sub"));
  });

  it("lets the including project's environment and .env win, as Compose does", async () => {
    const dir = project({
      "compose.yaml": "include: [sub/compose.yaml]\nservices:\n  app:\n    image: app\n",
      ".env": "POLICY=noeviction\nONLY_TOP=top\n",
      "sub/compose.yaml": INCLUDED,
      "sub/.env": "MAXMEMORY=64mb\nPOLICY=allkeys-lru\nREDIS_TAG=${TAG_FROM_SHELL}\n",
      "sub/Dockerfile": "FROM scratch\n",
    });
    const { project: loaded } = await loadCompose({
      files: [],
      cwd: dir,
      env: { MAXMEMORY: "128mb", TAG_FROM_SHELL: "7.2" },
    });
    expect(loaded.services.cache!.environment).toEqual({
      MAXMEMORY: "128mb",
      POLICY: "noeviction",
      ONLY_TOP: "top",
    });
    // The included .env is read with the including project's variables.
    expect(loaded.services.cache!.image).toBe("redis:7.2");
    expect(loaded.services.cache!.labels).toEqual({ policy: "noeviction" });
    // The including project never sees the included .env.
    expect(loaded.services.app!.environment).toEqual({});
  });

  it("takes the include's env_file instead of the included .env", async () => {
    const dir = project({
      "compose.yaml": [
        "include:",
        "  - path: sub/compose.yaml",
        "    env_file: sub/custom.env",
        "services:",
        "  app:",
        "    image: app",
        "    environment: [MAXMEMORY]",
        "",
      ].join("\n"),
      "sub/compose.yaml": INCLUDED,
      "sub/.env": "MAXMEMORY=64mb\n",
      "sub/custom.env": "MAXMEMORY=1gb\nREDIS_TAG=6\n",
      "sub/Dockerfile": "FROM scratch\n",
    });
    const { project: loaded } = await loadCompose({ files: [], cwd: dir, env: {} });
    expect(loaded.services.cache!.environment).toEqual({ MAXMEMORY: "1gb" });
    expect(loaded.services.cache!.image).toBe("redis:6");
    expect(loaded.services.app!.environment).toEqual({});
  });
});
