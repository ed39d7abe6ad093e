// Helpers for the Compose loader's unit tests: write YAML into a temporary project directory and
// load it, and strip source locations when comparing models.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { type LoadComposeOptions, loadCompose } from "../../src/stack/compose/index.js";

export const FIXTURES = join(import.meta.dirname, "../fixtures/compose");

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory holding `files` (name -> content). */
export function projectDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "berth-compose-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Loads YAML texts as compose files (merged in order), with an empty environment by default. */
export async function loadTexts(
  texts: string[],
  options: Partial<LoadComposeOptions> & { extra?: Record<string, string> } = {},
) {
  const names = texts.map((_, i) => `compose${i}.yml`);
  const dir = projectDir({ ...Object.fromEntries(names.map((n, i) => [n, texts[i]!])), ...options.extra });
  return loadCompose({ env: {}, ...options, files: names, cwd: dir });
}

export async function loadText(
  text: string,
  options: Partial<LoadComposeOptions> & { extra?: Record<string, string> } = {},
) {
  return loadTexts([text], options);
}

/** A service's model without locations, for compact comparisons. */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (key, item) => (key === "location" ? undefined : item)));
}

export const BUSYBOX = "berth-fixture/busybox:1.35.0";
