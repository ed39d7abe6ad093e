import { afterAll, describe, expect, it } from "vitest";
import { BuildFailedError } from "../../src/engine/errors.js";
import { newSessionId } from "../../src/janitor/session.js";
import { LABELS } from "../../src/model/labels.js";
import { defineProject } from "../../src/stack/builder.js";
import type { StackEvent } from "../../src/stack/progress/events.js";
import { STACK_LABELS } from "../../src/stack/stack-labels.js";
import { up } from "../../src/stack/up.js";
import { composeDir, sessionResources } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const built = new Set<string>();
afterAll(async () => {
  for (const tag of built) await engine.removeImage(tag).catch(() => {});
});

describe("build sections", () => {
  it("are built locally, labelled without ownership labels, and reused while unchanged", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    try {
      dir.file("Dockerfile", `FROM ${fixtureImage()}\nARG GREETING\nRUN echo "$GREETING" > /greeting\n`);
      dir.file(".dockerignore", "ignored.txt\n");
      dir.file("ignored.txt", `${newSessionId()}\n`);
      const spec = defineProject(
        {
          name: "buildtest",
          services: {
            app: {
              build: { context: ".", args: { GREETING: "hello from the build" } },
              command: ["sh", "-c", "cat /greeting; trap 'exit 0' TERM; sleep 60 & wait"],
              wait: [{ kind: "log", pattern: "hello from the build" }],
            },
          },
        },
        dir.dir,
      );
      const first = await up({ spec });
      let tag = "";
      try {
        tag = (await engine.inspectContainer(first.service("app").containerId)).Config.Image;
        built.add(tag);
        expect(tag).toMatch(/^berth-build\/buildtest-app:[0-9a-f]{12}$/);
        const image = await engine.inspectImage(tag);
        expect(image.Config.Labels?.[STACK_LABELS.buildHash]).toMatch(/^[0-9a-f]{64}$/);
        expect(image.Config.Labels?.["berth.built-by-session"]).toBe(first.session);
        expect(image.Config.Labels?.[LABELS.session]).toBeUndefined();
      } finally {
        await first.down();
      }
      // A file .dockerignore excludes does not change the build.
      dir.file("ignored.txt", "changed\n");
      const events: StackEvent[] = [];
      const second = await up({ spec, onProgress: (e) => events.push(e) });
      try {
        expect((await engine.inspectContainer(second.service("app").containerId)).Config.Image).toBe(tag);
        expect(events).toContainEqual({ type: "service", service: "app", phase: "built", detail: "reused" });
      } finally {
        await second.down();
      }
    } finally {
      dir.remove();
    }
  });

  it("builds again when an image it is built FROM changes under the same tag", {
    timeout: 240_000,
  }, async () => {
    const baseDir = composeDir();
    const dir = composeDir();
    const base = `berth-test-base/${newSessionId()}:latest`;
    const buildBase = async (version: string) => {
      baseDir.file("Dockerfile", `FROM ${fixtureImage()}\nRUN echo ${version} > /base-version\n`);
      const { imageId } = await engine.buildImage(
        { dir: baseDir.dir, files: ["Dockerfile"] },
        { tag: base, labels: { "berth.test": "base-image" } },
      );
      return imageId || (await engine.inspectImage(base)).Id;
    };
    // Removed last, after the images built on them (an image with children cannot go).
    const baseIds: string[] = [];
    const ownBuilds = new Set<string>();
    try {
      baseIds.push(await buildBase("one"));
      dir.file("Dockerfile", `FROM ${base}\nRUN true\n`);
      const spec = defineProject(
        {
          name: "basetest",
          services: {
            app: {
              build: ".",
              command: ["sh", "-c", "echo base-$(cat /base-version); trap 'exit 0' TERM; sleep 60 & wait"],
              wait: [{ kind: "log", pattern: "base-" }],
            },
          },
        },
        dir.dir,
      );
      const tagOf = async (env: Awaited<ReturnType<typeof up>>) =>
        (await engine.inspectContainer(env.service("app").containerId)).Config.Image;

      const first = await up({ spec });
      let firstTag = "";
      try {
        firstTag = await tagOf(first);
        ownBuilds.add(firstTag);
        expect(await first.logs("app")).toContain("base-one");
      } finally {
        await first.down();
      }

      // Same tag, new image: the build's hash changes, so it is built again on the new base.
      baseIds.push(await buildBase("two"));
      expect(baseIds[1]).not.toBe(baseIds[0]);
      const events: StackEvent[] = [];
      const second = await up({ spec, onProgress: (e) => events.push(e) });
      try {
        const secondTag = await tagOf(second);
        ownBuilds.add(secondTag);
        expect(secondTag).not.toBe(firstTag);
        expect(await second.logs("app")).toContain("base-two");
        expect(events).not.toContainEqual({
          type: "service",
          service: "app",
          phase: "built",
          detail: "reused",
        });
      } finally {
        await second.down();
      }
    } finally {
      for (const tag of ownBuilds) await engine.removeImage(tag).catch(() => {});
      await engine.removeImage(base).catch(() => {});
      for (const id of baseIds) await engine.removeImage(id).catch(() => {});
      dir.remove();
      baseDir.remove();
    }
  });

  it("a failing build names the service, shows the build output, and creates nothing", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    try {
      dir.file("Dockerfile", `FROM ${fixtureImage()}\nRUN echo "step output before failing" && exit 3\n`);
      const sessionId = newSessionId();
      const error = await up({
        sessionId,
        spec: defineProject({ services: { broken: { build: "." } } }, dir.dir),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BuildFailedError);
      expect((error as Error).message).toContain("Service broken");
      expect((error as Error).message).toContain("step output before failing");
      expect(await sessionResources(sessionId)).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});
