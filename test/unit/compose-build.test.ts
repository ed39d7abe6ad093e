// `build` keys: each one the Engine's build API can honour goes from the file to the model, to
// the engine's build options and to the /build query; BuildKit-only keys are refused with why;
// bad values name file, field and value.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { buildQuery } from "../../src/engine/engine.js";
import { tarFiles } from "../../src/engine/tar.js";
import { INLINE_DOCKERFILE } from "../../src/model/compose.js";
import { readBuildContext } from "../../src/stack/build-context.js";
import type { ComposeError } from "../../src/stack/compose/index.js";
import { buildSettings } from "../../src/stack/images.js";
import { caught } from "../support/caught.js";
import { loadText } from "./compose-support.js";

const DOCKERFILE = { Dockerfile: "FROM berth-fixture/busybox:1.35.0\n" };

async function build(yaml: string, extra: Record<string, string> = DOCKERFILE) {
  const { project } = await loadText(`services:\n  a:\n${yaml}`, { extra });
  return project.services.a!.build!;
}

async function refusal(yaml: string): Promise<ComposeError> {
  return (await caught(
    loadText(`services:\n  a:\n${yaml}`, { extra: DOCKERFILE }),
  )) as unknown as ComposeError;
}

describe("build keys into the model, the build options and the query", () => {
  it("labels (mapping or list, merged with berth's own)", async () => {
    const spec = await build("    build:\n      context: .\n      labels: {team: web, tier: ''}\n");
    expect(spec.labels).toEqual({ team: "web", tier: "" });
    const listed = await build("    build:\n      context: .\n      labels: [team=web]\n");
    expect(listed.labels).toEqual({ team: "web" });
  });

  it("network: default, host or none, as networkmode", async () => {
    const spec = await build("    build: {context: ., network: none}\n");
    expect(spec.network).toBe("none");
    expect(buildQuery({ tag: "t", ...buildSettings(spec) })).toMatchObject({ networkmode: "none" });
  });

  it("shm_size in bytes, as shmsize", async () => {
    const spec = await build("    build: {context: ., shm_size: 128m}\n");
    expect(spec.shmSizeBytes).toBe(128 * 1024 * 1024);
    expect(buildQuery({ tag: "t", ...buildSettings(spec) })).toMatchObject({ shmsize: 134217728 });
  });

  it("extra_hosts (list or mapping), as repeated extrahosts", async () => {
    const spec = await build(
      "    build:\n      context: .\n      extra_hosts: ['db:10.0.0.2', 'cache=10.0.0.3']\n",
    );
    expect(spec.extraHosts).toEqual(["db:10.0.0.2", "cache:10.0.0.3"]);
    const mapped = await build("    build:\n      context: .\n      extra_hosts: {db: 10.0.0.2}\n");
    expect(mapped.extraHosts).toEqual(["db:10.0.0.2"]);
    expect(buildQuery({ tag: "t", ...buildSettings(spec) }).extrahosts).toEqual([
      "db:10.0.0.2",
      "cache:10.0.0.3",
    ]);
  });

  it("ulimits, as one JSON list", async () => {
    const spec = await build(
      "    build:\n      context: .\n      ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 64}\n",
    );
    expect(spec.ulimits).toEqual({ nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 64, hard: 64 } });
    expect(JSON.parse(buildQuery({ tag: "t", ...buildSettings(spec) }).ulimits as string)).toEqual([
      { Name: "nofile", Soft: 1024, Hard: 2048 },
      { Name: "nproc", Soft: 64, Hard: 64 },
    ]);
  });

  it("no_cache and pull, as nocache and pull (left out when false)", async () => {
    const spec = await build("    build: {context: ., no_cache: true, pull: 'true'}\n");
    expect(spec).toMatchObject({ noCache: true, pull: true });
    expect(buildQuery({ tag: "t", ...buildSettings(spec) })).toMatchObject({ nocache: true, pull: true });
    const off = await build("    build: {context: ., no_cache: false, pull: false}\n");
    const query = buildQuery({ tag: "t", ...buildSettings(off) });
    expect(query).not.toHaveProperty("nocache");
    expect(query).not.toHaveProperty("pull");
  });

  it("one platform from build.platforms, else the service's platform", async () => {
    const spec = await build("    build: {context: ., platforms: [linux/amd64]}\n");
    expect(spec.platform).toBe("linux/amd64");
    expect(buildQuery({ tag: "t", ...buildSettings(spec) })).toMatchObject({ platform: "linux/amd64" });
    const service = await build("    platform: linux/arm64\n    build: .\n");
    expect(service.platform).toBe("linux/arm64");
  });

  it("tags, as more t parameters after berth's own tag", async () => {
    const spec = await build("    build: {context: ., tags: ['example/app:ci', 'example/app:latest']}\n");
    expect(spec.tags).toEqual(["example/app:ci", "example/app:latest"]);
    expect(buildQuery({ tag: "berth-build/x:1", ...buildSettings(spec) }).t).toEqual([
      "berth-build/x:1",
      "example/app:ci",
      "example/app:latest",
    ]);
  });

  it("dockerfile_inline, sent in the context under its own name", async () => {
    const spec = await build(
      "    build:\n      context: .\n      dockerfile_inline: |\n        FROM berth-fixture/busybox:1.35.0\n        RUN true\n",
      {},
    );
    expect(spec.dockerfile).toBe(INLINE_DOCKERFILE);
    expect(spec.dockerfileInline).toBe("FROM berth-fixture/busybox:1.35.0\nRUN true\n");
    const context = readBuildContext(spec, "services.a");
    expect(context.files).not.toContain(INLINE_DOCKERFILE);
    expect(context.extras).toEqual([
      { name: INLINE_DOCKERFILE, content: Buffer.from(spec.dockerfileInline!) },
    ]);
    expect(context.baseImages).toEqual(["berth-fixture/busybox:1.35.0"]);
    const tar = Buffer.concat(
      await Readable.from(tarFiles(context.dir, context.files, context.extras)).toArray(),
    );
    const at = tar.indexOf(INLINE_DOCKERFILE);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(tar.subarray(at + 512, at + 512 + 9).toString()).toBe("FROM bert");
  });

  it("a setting changes the build hash (berth reuses a build only while its inputs are unchanged)", async () => {
    const plain = await build("    build: .\n");
    const hash = readBuildContext(plain, "a").hash;
    expect(readBuildContext({ ...plain, labels: {} }, "a").hash).not.toBe(hash);
    expect(readBuildContext({ ...plain, network: "none" }, "a").hash).not.toBe(hash);
    expect(readBuildContext({ ...plain, labels: { a: "1" } }, "a").hash).not.toBe(
      readBuildContext({ ...plain, labels: { a: "2" } }, "a").hash,
    );
    expect(readBuildContext({ ...plain }, "a").hash).toBe(hash);
  });
});

describe("build keys berth refuses", () => {
  it.each([
    ["ssh: [default]", "ssh", "BuildKit session"],
    ["secrets: [token]", "secrets", "BuildKit session"],
    ["additional_contexts: {base: ../base}", "additional_contexts", "BuildKit feature"],
    ["entitlements: [network.host]", "entitlements", "BuildKit"],
    ["privileged: true", "privileged", "BuildKit entitlement"],
    ["isolation: hyperv", "isolation", "Windows containers"],
    ["provenance: true", "provenance", "attestations"],
    ["sbom: true", "sbom", "attestations"],
  ])("%s, saying why", async (line, key, why) => {
    const error = await refusal(`    build:\n      context: .\n      ${line}\n`);
    expect(error).toMatchObject({ path: `services.a.build.${key}`, line: 5, exitCode: 2 });
    expect(error.message).toContain(`berth cannot honour \`${key}\``);
    expect(error.message).toContain(why);
  });

  it("a network other than default, host or none", async () => {
    const error = await refusal("    build: {context: ., network: backend}\n");
    expect(error).toMatchObject({ path: "services.a.build.network", exitCode: 2 });
    expect(error.message).toContain("default, host or none");
    expect(error.file).toMatch(/compose0\.yml$/);
    expect(String(error.value)).toBe("backend");
  });

  it("more than one platform", async () => {
    const error = await refusal("    build: {context: ., platforms: [linux/amd64, linux/arm64]}\n");
    expect(error).toMatchObject({ path: "services.a.build.platforms", exitCode: 2 });
    expect(error.hint).toContain("buildx");
  });

  it("dockerfile with dockerfile_inline, a berth. label, a bad shm_size", async () => {
    const both = await refusal(
      "    build: {context: ., dockerfile: Dockerfile, dockerfile_inline: 'FROM x'}\n",
    );
    expect(both.path).toBe("services.a.build.dockerfile_inline");
    const label = await refusal("    build:\n      context: .\n      labels: {berth.session: x}\n");
    expect(label.path).toBe('services.a.build.labels["berth.session"]');
    const size = await refusal("    build: {context: ., shm_size: lots}\n");
    expect(size.path).toBe("services.a.build.shm_size");
    expect(size.message).toContain("lots");
  });
});
