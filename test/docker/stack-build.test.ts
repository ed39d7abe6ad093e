import { afterAll, describe, expect, it } from "vitest";
import { BuildFailedError } from "../../src/engine/errors.js";
import { LABELS } from "../../src/janitor/labels.js";
import { newSessionId } from "../../src/janitor/session.js";
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
