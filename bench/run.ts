// `npm run bench -- NAME [args...]`: runs bench/NAME.ts, whose default export does the work.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const name = process.argv[2];
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !["run.ts", "support.ts"].includes(f))
  .map((f) => f.replace(/\.ts$/, ""));

if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME\navailable: ${available.join(", ")}\n`);
  process.exit(2);
}
const file = join(here, `${name}.ts`);
if (!existsSync(file)) process.exit(2);
const mod = (await import(pathToFileURL(file).href)) as { default: (args: string[]) => Promise<void> };
await mod.default(process.argv.slice(3));
