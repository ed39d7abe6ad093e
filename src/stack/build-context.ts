// A build context as the daemon should see it: the files of the directory minus what
// `.dockerignore` excludes (Docker's rules: last matching pattern wins, `!` re-includes, a
// matching directory excludes its contents), and a hash of everything that shapes the image.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { ConfigError } from "../engine/errors.js";
import type { BuildSpec } from "./model.js";

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
  /** sha256 over the Dockerfile path, args, target and every file's path and content. */
  hash: string;
}

export function readBuildContext(build: BuildSpec, where: string): BuildContext {
  if (!existsSync(build.context)) {
    throw new ConfigError(`${where}.build.context: directory ${build.context} does not exist`, {
      resource: build.context,
    });
  }
  if (!existsSync(join(build.context, build.dockerfile))) {
    throw new ConfigError(
      `${where}.build.dockerfile: ${build.dockerfile} does not exist in ${build.context}`,
      { resource: join(build.context, build.dockerfile) },
    );
  }
  const ignoreFile = join(build.context, ".dockerignore");
  const rules = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, "utf8")) : [];
  const files: string[] = [];
  walk(build.context, build.context, rules, files);
  // The daemon needs the Dockerfile even when .dockerignore names it.
  const dockerfile = build.dockerfile.split(sep).join("/");
  if (!files.includes(dockerfile)) files.push(dockerfile);
  files.sort();
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ dockerfile, args: Object.entries(build.args).sort(), target: build.target }));
  for (const file of files) {
    hash.update(`\0${file}\0`);
    hash.update(readFileSync(join(build.context, file)));
  }
  return { dir: build.context, files, hash: hash.digest("hex") };
}
