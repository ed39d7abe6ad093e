// `berth fixtures build`: builds the local fixture images (nothing is pulled).
import type { Command } from "commander";
import { ensureBusyboxFixture } from "../../fixtures/busybox.js";
import { createCliEngine, type GlobalOptions } from "../context.js";
import { writeJSON } from "../output.js";

export function registerFixtures(program: Command, globals: () => GlobalOptions): void {
  const fixtures = program.command("fixtures").description("Build berth's local fixture images");
  fixtures
    .command("build")
    .description("Build berth-fixture/busybox from the host's static busybox (skipped when unchanged)")
    .option("--json", "print the result as JSON")
    .action(async (options: { json?: boolean }) => {
      const engine = createCliEngine(globals());
      const image = await ensureBusyboxFixture(engine);
      if (options.json) writeJSON(image);
      else
        process.stdout.write(
          `${image.ref}: ${image.built ? "built" : "up to date"} (${(image.durationMs / 1000).toFixed(1)}s)\n`,
        );
    });
}
