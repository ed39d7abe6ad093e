// Mounts: `volumes` entries (named, anonymous, bind, tmpfs; short and long syntax) and the
// service `tmpfs` key. Relative bind sources are resolved against the project directory.
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { parseSize } from "../../memory/size.js";
import type { VolumeMount } from "../../model/compose.js";
import { type FileContext, failAt, locationOf, parseAt } from "./file-context.js";
import type { PathSegment } from "./path.js";

/** Modes Docker accepts that berth passes over (SELinux labels, macOS consistency, nocopy). */
const IGNORED_MODES = new Set([
  "z",
  "Z",
  "cached",
  "delegated",
  "consistent",
  "nocopy",
  "shared",
  "slave",
  "private",
  "rshared",
  "rslave",
  "rprivate",
]);

function isPath(source: string): boolean {
  return source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
}

function hostPath(context: FileContext, source: string): string {
  if (source === "~" || source.startsWith("~/")) return resolve(homedir(), source.slice(2));
  return isAbsolute(source) ? source : resolve(context.projectDir, source);
}

function checkTarget(context: FileContext, path: PathSegment[], target: string, entry: unknown): void {
  if (!target.startsWith("/"))
    failAt(context, path, `mount target \`${target}\` is not an absolute path`, { value: entry });
}

interface LongVolume {
  type: "volume" | "bind" | "tmpfs";
  source?: string;
  target: string;
  read_only?: boolean;
  tmpfs?: { size?: string | number };
}

function parseShort(context: FileContext, path: PathSegment[], entry: string): VolumeMount {
  const parts = entry.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) {
    failAt(context, path, "invalid mount: expected [SOURCE:]TARGET[:MODE]", { value: entry });
  }
  const location = locationOf(context, path);
  if (parts.length === 1) {
    checkTarget(context, path, parts[0]!, entry);
    return { type: "anonymous", target: parts[0]!, readOnly: false, location };
  }
  const [source, target, modeText] = parts as [string, string, string?];
  checkTarget(context, path, target, entry);
  let readOnly = false;
  for (const mode of modeText?.split(",") ?? []) {
    if (mode === "ro") readOnly = true;
    else if (mode === "rw") readOnly = false;
    else if (IGNORED_MODES.has(mode)) context.unsupported.push(locationOf(context, path));
    else failAt(context, path, `invalid mount mode \`${mode}\` (expected ro or rw)`, { value: entry });
  }
  if (isPath(source)) return { type: "bind", source: hostPath(context, source), target, readOnly, location };
  return { type: "volume", source, target, readOnly, location };
}

function parseLong(context: FileContext, path: PathSegment[], entry: LongVolume): VolumeMount {
  checkTarget(context, [...path, "target"], entry.target, entry.target);
  const location = locationOf(context, path);
  const readOnly = entry.read_only ?? false;
  if (entry.type === "tmpfs") {
    const size = entry.tmpfs?.size;
    const mount: VolumeMount = { type: "tmpfs", target: entry.target, location };
    if (size !== undefined)
      mount.sizeBytes = parseAt(context, [...path, "tmpfs", "size"], () => parseSize(size));
    return mount;
  }
  if (entry.type === "bind") {
    if (!entry.source) failAt(context, [...path, "source"], "a bind mount needs a source path");
    return {
      type: "bind",
      source: hostPath(context, entry.source),
      target: entry.target,
      readOnly,
      location,
    };
  }
  if (!entry.source) return { type: "anonymous", target: entry.target, readOnly, location };
  return { type: "volume", source: entry.source, target: entry.target, readOnly, location };
}

export function parseVolume(
  context: FileContext,
  path: PathSegment[],
  entry: string | LongVolume,
): VolumeMount {
  return typeof entry === "string" ? parseShort(context, path, entry) : parseLong(context, path, entry);
}

/** One `tmpfs` entry: `/run` or `/run:size=64m` (other options are reported as unsupported). */
export function parseTmpfs(context: FileContext, path: PathSegment[], entry: string): VolumeMount {
  const [target = "", options] = entry.split(/:(.*)/s);
  checkTarget(context, path, target, entry);
  const mount: VolumeMount = { type: "tmpfs", target, location: locationOf(context, path) };
  for (const option of options?.split(",") ?? []) {
    const [key, value] = option.split("=");
    if (key === "size" && value !== undefined)
      mount.sizeBytes = parseAt(context, path, () => parseSize(value));
    else context.unsupported.push(locationOf(context, path));
  }
  return mount;
}
