// Every error code the source defines is listed in docs/errors.md (with its exit code), and the
// page lists no code the source no longer defines.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = process.cwd();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** `code = "BERTH_X"`, `code: string = "BERTH_X"` (error classes) and `code: "BERTH_X"` (results). */
const CODE = /\bcode(?:\s*:\s*string)?\s*[=:]\s*"(BERTH_[A-Z0-9_]+)"/g;

function definedCodes(): Map<string, string> {
  const codes = new Map<string, string>();
  for (const file of sourceFiles(join(root, "src"))) {
    for (const match of readFileSync(file, "utf8").matchAll(CODE)) {
      if (!codes.has(match[1]!)) codes.set(match[1]!, file.slice(root.length + 1));
    }
  }
  return codes;
}

/** Rows of the page's tables: `| class | `CODE` | exit | when |`. */
function documentedCodes(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(join(root, "docs", "errors.md"), "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const code = /^`(BERTH_[A-Z0-9_]+)`$/.exec(cells[2] ?? "")?.[1];
    if (code) rows.set(code, cells[3] ?? "");
  }
  return rows;
}

describe("docs/errors.md", () => {
  it("finds the codes it checks", () => {
    // Guards the scan itself: a broken pattern would find nothing and pass everything.
    expect(definedCodes().get("BERTH_OOM_KILLED")).toBe("src/memory/errors.ts");
    expect(definedCodes().size).toBeGreaterThan(30);
  });

  it("lists every error code the source defines, with an exit code", () => {
    const documented = documentedCodes();
    const missing = [...definedCodes()]
      .filter(([code]) => !documented.has(code))
      .map(([code, file]) => `${code} (${file})`);
    expect(missing, "codes defined in src but missing from docs/errors.md").toEqual([]);
    for (const [code, exit] of documented) expect(exit, code).toMatch(/^\d+$/);
  });

  it("lists no code the source does not define", () => {
    const defined = definedCodes();
    expect([...documentedCodes().keys()].filter((code) => !defined.has(code))).toEqual([]);
  });
});
