// `berth fixtures build`: builds the local fixture images (nothing is pulled).
import type { Command } from "commander";
import { ensureBusyboxFixture, type FixtureImage } from "../../fixtures/busybox.js";
import { ensureReferenceStackImages } from "../../fixtures/reference-stack.js";
import { createCliEngine, type GlobalOptions } from "../global-options.js";
import { writeJSON } from "../output.js";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function imageLine(image: FixtureImage): string {
  return `${image.ref}: ${image.built ? "built" : "up to date"} (${seconds(image.durationMs)})\n`;
}

export function registerFixtures(program: Command, globals: () => GlobalOptions): void {
  const fixtures = program.command("fixtures").description("Build berth's local fixture images");
  fixtures
    .command("build")
    .description("Build berth-fixture/busybox from the host's static busybox (skipped when unchanged)")
    .option(
      "--reference-stack",
      "also build the reference stack's images (PostgreSQL, Redis, ClickHouse, Node.js) from Debian packages; needs root and debootstrap",
    )
    .option("--json", "print the result as JSON")
    .action(async (options: { json?: boolean; referenceStack?: boolean }) => {
      const engine = createCliEngine(globals());
      const image = await ensureBusyboxFixture(engine);
      if (!options.referenceStack) {
        if (options.json) writeJSON(image);
        else process.stdout.write(imageLine(image));
        return;
      }
      const reference = await ensureReferenceStackImages(engine, {
        onProgress: options.json
          ? undefined
          : (event) =>
              process.stderr.write(`  ${event.image}: ${event.phase} (${seconds(event.elapsedMs)})\n`),
      });
      const images = [image, ...reference.images];
      if (options.json) writeJSON({ ...reference, images });
      else for (const built of images) process.stdout.write(imageLine(built));
    });
}
