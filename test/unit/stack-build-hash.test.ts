// The build cache's key: a build is reused only while its inputs are unchanged, and the images
// it builds on are inputs too (a base re-tagged to a new image id makes a new build).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import { dockerfileBaseImages, readBuildContext } from "../../src/stack/build-context.js";
import { buildHash } from "../../src/stack/images.js";

describe("dockerfileBaseImages", () => {
  it("lists FROM images, leaving out stages and scratch", () => {
    const text = [
      "# syntax=docker/dockerfile:1",
      "FROM --platform=linux/amd64 berth-fixture/busybox:latest AS build",
      "RUN echo hi",
      "FROM build as second",
      "FROM scratch",
      "COPY --from=build /a /a",
      "COPY --from=0 /b /b",
      "COPY --chown=1:1 --from=other/image:1 /c /c",
      "FROM Second",
    ].join("\n");
    expect(dockerfileBaseImages(text)).toEqual(["berth-fixture/busybox:latest", "other/image:1"]);
  });

  it("expands global ARGs before the first FROM, with build args overriding their defaults", () => {
    const text = [
      "ARG BASE=base/one",
      'ARG TAG="1.0"',
      "ARG UNSET",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a template
      "FROM ${BASE}:$TAG",
      "ARG LATE=ignored",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a template
      "FROM ${UNSET:-fallback/image}",
    ].join("\n");
    expect(dockerfileBaseImages(text)).toEqual(["base/one:1.0", "fallback/image"]);
    expect(dockerfileBaseImages(text, { BASE: "base/two", UNSET: "given/image" })).toEqual([
      "base/two:1.0",
      "given/image",
    ]);
  });

  it("joins continuation lines and skips comments", () => {
    const text = "FROM \\\n  # a comment inside\n  some/base:2 \\\n  AS x\nFROM x\n";
    expect(dockerfileBaseImages(text)).toEqual(["some/base:2"]);
    expect(dockerfileBaseImages("# escape=`\nFROM `\n  other/base\n")).toEqual(["other/base"]);
  });
});

describe("buildHash", () => {
  let dir = "";
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = "";
  });

  function fakeEngine(ids: Record<string, string>): Engine {
    return {
      findImage: async (ref: string) => (ids[ref] ? { Id: ids[ref] } : undefined),
    } as unknown as Engine;
  }

  it("changes when a FROM image gets a new id under the same tag", async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-build-hash-"));
    writeFileSync(join(dir, "Dockerfile"), "FROM base/image:latest\nRUN true\n");
    const context = readBuildContext({ context: dir, dockerfile: "Dockerfile", args: {} }, "services.app");
    expect(context.baseImages).toEqual(["base/image:latest"]);

    const before = await buildHash(fakeEngine({ "base/image:latest": "sha256:aaaa" }), context);
    const same = await buildHash(fakeEngine({ "base/image:latest": "sha256:aaaa" }), context);
    const rebased = await buildHash(fakeEngine({ "base/image:latest": "sha256:bbbb" }), context);
    const missing = await buildHash(fakeEngine({}), context);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(same).toBe(before);
    expect(rebased).not.toBe(before);
    expect(missing).not.toBe(before);
    expect(before).not.toBe(context.hash);
  });

  it("is the context's hash when the Dockerfile builds on nothing (scratch)", async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-build-hash-"));
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\nCOPY a /a\n");
    writeFileSync(join(dir, "a"), "a\n");
    const context = readBuildContext({ context: dir, dockerfile: "Dockerfile", args: {} }, "services.app");
    expect(await buildHash(fakeEngine({}), context)).toBe(context.hash);
  });
});
