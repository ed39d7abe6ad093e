import { readFileSync } from "node:fs";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS, commandsFor } from "../../src/cli/commands.js";

describe("the CLI's command table", () => {
  it("names each command as its module registers it", { timeout: 60_000 }, async () => {
    for (const [name, load] of Object.entries(COMMANDS)) {
      const program = new Command("berth");
      (await load())(program, () => ({}));
      expect(program.commands.map((c) => c.name())).toEqual([name]);
    }
  });

  it("loads only the command named, skipping global flags", () => {
    expect(commandsFor(["ps", "-p", "x"])).toEqual(["ps"]);
    expect(commandsFor(["-v", "down", "--json"])).toEqual(["down"]);
  });

  it("loads every command for help, no command, or an unknown one (so commander can suggest)", () => {
    const all = Object.keys(COMMANDS);
    expect(commandsFor([])).toEqual(all);
    expect(commandsFor(["--help"])).toEqual(all);
    expect(commandsFor(["help", "ps"])).toEqual(all);
    expect(commandsFor(["pss"])).toEqual(all);
    expect(commandsFor(["toString"])).toEqual(all);
  });

  it("keeps main and the table free of static imports beyond the version reader", () => {
    // A static import here is paid by every command, `--version` included.
    for (const file of ["main.ts", "commands.ts"]) {
      const source = readFileSync(new URL(`../../src/cli/${file}`, import.meta.url), "utf8");
      const imports = [...source.matchAll(/^import (?!type )[^;]*? from "([^"]+)";/gms)].map((m) => m[1]);
      expect(imports.filter((i) => i !== "../model/version.js" && i !== "./commands.js")).toEqual([]);
    }
  });
});
