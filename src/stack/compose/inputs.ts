// What a load of Compose files takes from outside the process: the files it reads, the paths it
// only checks for existence, and the variables it looks up. The loader does all of it through a
// ComposeReader; the recording one notes each answer (a file's bytes as a hash, or that it was
// absent; a variable's value, or that it was unset), so a result computed from them can later be
// trusted again only while every one of them is still the same (the CLI's model cache,
// docs/performance.md#reuse).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

export interface ComposeReader {
  /** A file's text (UTF-8); rejects as fs.readFile does (ENOENT when absent). */
  readFile(path: string): Promise<string>;
  readFileSync(path: string): string;
  exists(path: string): boolean;
  /** A variable's value as the load sees it (the caller's environment): returned, and noted. */
  variable(name: string, value: string | undefined): string | undefined;
}

/** The plain reader: the file system, nothing noted. */
export const fsReader: ComposeReader = {
  readFile: (path) => readFile(path, "utf8"),
  readFileSync: (path) => readFileSync(path, "utf8"),
  exists: (path) => existsSync(path),
  variable: (_name, value) => value,
};

/** What one load read: every entry in the order first met. */
export interface ComposeInputs {
  /** Path -> sha256 (hex) of the bytes read, or null: it did not exist (ENOENT). */
  files: [string, string | null][];
  /** Path -> whether it existed, for paths only checked. */
  probes: [string, boolean][];
  /** Name -> value, or null: unset. */
  variables: [string, string | null][];
}

export function sha256(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/** A file's hash now, or null when it does not exist; any other failure throws. */
function hashOrAbsent(path: string): string | null {
  try {
    return sha256(readFileSync(path));
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/**
 * A reader that notes everything the load takes. `inputs()` answers undefined when the load saw
 * something it cannot vouch for: a file or variable that changed between two reads of it, or a
 * read that failed other than with ENOENT.
 */
export function recordingReader(): { reader: ComposeReader; inputs(): ComposeInputs | undefined } {
  const files = new Map<string, string | null>();
  const probes = new Map<string, boolean>();
  const variables = new Map<string, string | null>();
  let consistent = true;
  const note = <T>(into: Map<string, T>, key: string, value: T) => {
    if (into.has(key) && into.get(key) !== value) consistent = false;
    into.set(key, value);
  };
  const failed = (path: string, error: unknown): never => {
    if (isMissing(error)) note(files, path, null);
    else consistent = false;
    throw error;
  };
  const read = (path: string, bytes: Buffer): string => {
    note(files, path, sha256(bytes));
    return bytes.toString("utf8");
  };
  const reader: ComposeReader = {
    readFile: async (path) => read(path, await readFile(path).catch((error: unknown) => failed(path, error))),
    readFileSync: (path) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (error) {
        return failed(path, error);
      }
      return read(path, bytes);
    },
    exists: (path) => {
      const found = existsSync(path);
      note(probes, path, found);
      return found;
    },
    variable: (name, value) => {
      note(variables, name, value ?? null);
      return value;
    },
  };
  return {
    reader,
    inputs: () =>
      consistent ? { files: [...files], probes: [...probes], variables: [...variables] } : undefined,
  };
}

/**
 * Whether every input is still what the load saw: each file re-read and hashed (or still
 * absent), each probe answered the same, each variable the same value (or still unset). Any
 * other answer (an unreadable file, a malformed entry) is a no.
 */
export function inputsUnchanged(inputs: ComposeInputs, env: Record<string, string | undefined>): boolean {
  try {
    for (const [name, value] of inputs.variables) {
      if (typeof name !== "string" || (env[name] ?? null) !== value) return false;
    }
    for (const [path, found] of inputs.probes) {
      if (typeof path !== "string" || existsSync(path) !== found) return false;
    }
    for (const [path, hash] of inputs.files) {
      if (typeof path !== "string" || hashOrAbsent(path) !== hash) return false;
    }
    return true;
  } catch {
    return false;
  }
}
