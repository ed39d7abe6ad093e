// berth's own version, read from its package.json (two levels up from src/model and
// dist/model alike): for `berth --version` and validate's results file.
import { readFileSync } from "node:fs";

export function berthVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
