// A build context as the daemon should see it: the files of the directory minus what
// `.dockerignore` excludes (Docker's rules: last matching pattern wins, `!` re-includes, a
// matching directory excludes its contents), and a hash of everything that shapes the image.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { ConfigError } from "../engine/errors.js";
import type { BuildSpec } from "../model/compose.js";

interface IgnoreRule {
  regex: RegExp;
  exclude: boolean;
}

function globToRegex(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      const slash = pattern[i + 2] === "/";
      out += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i);
      if (end < 0) out += "\\[";
      else {
        out += pattern.slice(i, end + 1).replace(/^\[!/, "[^");
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const exclude = !line.startsWith("!");
    if (!exclude) line = line.slice(1).trim();
    line = line.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
    if (line === "" || line === ".") continue;
    rules.push({ regex: globToRegex(line), exclude });
  }
  return rules;
}

/** Whether `path` (relative, `/`-separated) is excluded; a rule matching a parent directory counts. */
export function isIgnored(path: string, rules: IgnoreRule[]): boolean {
  const parts = path.split("/");
  let ignored = false;
  for (const rule of rules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.regex.test(parts.slice(0, n).join("/"))) {
        ignored = rule.exclude;
        break;
      }
    }
  }
  return ignored;
}

function walk(dir: string, root: string, rules: IgnoreRule[], files: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const rel = relative(root, full).split(sep).join("/");
    if (entry.isDirectory()) walk(full, root, rules, files);
    else if (!isIgnored(rel, rules)) files.push(rel);
  }
}

export interface BuildContext {
  dir: string;
  files: string[];
  /** Files sent that are not in the directory (an inline Dockerfile). */
  extras: { name: string; content: Buffer }[];
  /**
   * sha256 over the Dockerfile path, args, target and every file's path and content. The images
   * the Dockerfile builds on are not in it: see `baseImages` (their ids are only known to the daemon).
   */
  hash: string;
  /** The images the Dockerfile builds on (`FROM`, `COPY --from`), stages and `scratch` left out. */
  baseImages: string[];
}

/** The Dockerfile's instructions, one a line: continuation lines joined, comments dropped. */
function instructions(text: string): string[] {
  const lines = text.split(/\r?\n/);
  // A parser directive (`# escape=`` ` ``) changes the continuation character.
  let continuation = "\\";
  for (const line of lines) {
    const directive = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(line);
    if (!directive) break;
    if (directive[1]!.toLowerCase() === "escape") continuation = directive[2]!;
  }
  const out: string[] = [];
  let current = "";
  for (const raw of lines) {
    const trimmed = raw.trim();
    if (current === "" && trimmed.startsWith("#")) continue;
    if (current !== "" && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (trimmed.endsWith(continuation)) {
      current += `${trimmed.slice(0, -continuation.length)} `;
      continue;
    }
    current += trimmed;
    if (current.trim() !== "") out.push(current.trim());
    current = "";
  }
  if (current.trim() !== "") out.push(current.trim());
  return out;
}

/** `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}` as the builder expands them in FROM. */
function expandArgs(text: string, args: Map<string, string | undefined>): string {
  return text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _match,
      braced: string | undefined,
      op: string | undefined,
      word: string | undefined,
      bare: string | undefined,
    ) => {
      const value = args.get((braced ?? bare)!);
      if (op === ":-") return value ? value : (word ?? "");
      if (op === "-") return value !== undefined ? value : (word ?? "");
      if (op === ":+") return value ? (word ?? "") : "";
      if (op === "+") return value !== undefined ? (word ?? "") : "";
      return value ?? "";
    },
  );
}

/**
 * The images a Dockerfile builds on: every `FROM` image that is not an earlier stage and not
 * `scratch` (global `ARG`s before the first `FROM` and the build args expanded), and every
 * `COPY --from=` that names an image rather than a stage. Pure: reads only the text.
 */
export function dockerfileBaseImages(text: string, buildArgs: Record<string, string> = {}): string[] {
  const args = new Map<string, string | undefined>();
  const stages = new Set<string>();
  const bases = new Set<string>();
  let seenFrom = false;
  // A stage is named by its `AS` name or (in `COPY --from`) by its index.
  const external = (ref: string) =>
    ref !== "" && ref.toLowerCase() !== "scratch" && !stages.has(ref.toLowerCase()) && !/^\d+$/.test(ref);
  for (const line of instructions(text)) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const word = keyword.toUpperCase();
    if (word === "ARG" && !seenFrom) {
      // Global ARGs: only these are visible to FROM; a build arg overrides the default.
      for (const declaration of rest) {
        const eq = declaration.indexOf("=");
        const name = eq < 0 ? declaration : declaration.slice(0, eq);
        const fallback = eq < 0 ? undefined : declaration.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2");
        args.set(name, name in buildArgs ? buildArgs[name] : fallback);
      }
    } else if (word === "FROM") {
      seenFrom = true;
      const words = rest.filter((w) => !w.startsWith("--"));
      const image = expandArgs(words[0] ?? "", args);
      if (external(image)) bases.add(image);
      if (words[1]?.toUpperCase() === "AS" && words[2]) stages.add(words[2].toLowerCase());
    } else if (word === "COPY" || word === "ADD") {
      for (const flag of rest) {
        if (!flag.startsWith("--")) break;
        const from = /^--from=(.+)$/i.exec(flag)?.[1];
        if (from && external(from)) bases.add(from);
      }
    }
  }
  return [...bases].sort();
}

/** The build's settings besides context, Dockerfile, args and target, in a fixed order. */
function buildSettings(build: BuildSpec): [string, unknown][] {
  const { context: _c, dockerfile: _d, args: _a, target: _t, dockerfileInline: _i, ...rest } = build;
  return Object.entries(rest)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
}

export function readBuildContext(build: BuildSpec, where: string): BuildContext {
  if (!existsSync(build.context)) {
    throw new ConfigError(`${where}.build.context: directory ${build.context} does not exist`, {
      resource: build.context,
    });
  }
  const inline = build.dockerfileInline;
  if (inline === undefined && !existsSync(join(build.context, build.dockerfile))) {
    throw new ConfigError(
      `${where}.build.dockerfile: ${build.dockerfile} does not exist in ${build.context}`,
      { resource: join(build.context, build.dockerfile) },
    );
  }
  const ignoreFile = join(build.context, ".dockerignore");
  const rules = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, "utf8")) : [];
  const files: string[] = [];
  walk(build.context, build.context, rules, files);
  // The daemon needs the Dockerfile even when .dockerignore names it, and the .dockerignore too:
  // from it the daemon learns to leave both out of COPY and ADD (as the docker CLI sends them).
  const dockerfile = build.dockerfile.split(sep).join("/");
  if (inline === undefined && !files.includes(dockerfile)) files.push(dockerfile);
  if (rules.length > 0 && !files.includes(".dockerignore")) files.push(".dockerignore");
  files.sort();
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ dockerfile, args: Object.entries(build.args).sort(), target: build.target }));
  // The other settings shape the image too; a build without them hashes as before.
  const settings = buildSettings(build);
  if (settings.length > 0) hash.update(JSON.stringify(settings));
  if (inline !== undefined) hash.update(`\0${dockerfile}\0${inline}`);
  for (const file of files) {
    hash.update(`\0${file}\0`);
    hash.update(readFileSync(join(build.context, file)));
  }
  const baseImages = dockerfileBaseImages(
    inline ?? readFileSync(join(build.context, build.dockerfile), "utf8"),
    build.args,
  );
  const extras = inline === undefined ? [] : [{ name: dockerfile, content: Buffer.from(inline) }];
  return { dir: build.context, files, extras, hash: hash.digest("hex"), baseImages };
}
