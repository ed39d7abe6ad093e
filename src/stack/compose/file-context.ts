// What the normalisers of one file share: where things are, how to fail, where to report
// unsupported values.
import { ConfigError } from "../../engine/errors.js";
import type { SourceLocation } from "../../model/compose.js";
import { ComposeError } from "./errors.js";
import type { ComposeReader } from "./inputs.js";
import type { PathSegment, YamlPath } from "./path.js";
import { type ComposeSource, sourceLocation } from "./source.js";
import type { IgnoreRules } from "./supported-keys.js";

export interface FileContext {
  source: ComposeSource;
  /** Directory relative paths are resolved against (the first file's, as Compose does). */
  projectDir: string;
  /** Variables for `NAME` entries without a value (environment, then `.env`). */
  lookup: (name: string) => string | undefined;
  /** How the load reads files and checks paths (secret and config files, `extends` targets). */
  reader: ComposeReader;
  /** Values berth accepts but does not apply (harmless mount modes), reported in one warning. */
  unsupported: SourceLocation[];
  /** Keys berth cannot honour that `x-berth.ignore` names: removed, reported in one warning. */
  ignored: SourceLocation[];
  /** The project's `x-berth.ignore` lists, from every file. */
  ignoreRules: IgnoreRules;
}

export function locationOf(context: FileContext, path: YamlPath): SourceLocation {
  return sourceLocation(context.source, path);
}

export function failAt(
  context: FileContext,
  path: YamlPath,
  problem: string,
  extra: { value?: unknown; hint?: string; cause?: unknown } = {},
): never {
  throw ComposeError.at(locationOf(context, path), problem, extra);
}

/** Runs a parser that throws ConfigError (sizes, durations) and re-throws it at `path`. */
export function parseAt<T>(context: FileContext, path: PathSegment[], parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ConfigError && !(error instanceof ComposeError)) {
      return failAt(context, path, error.message, { hint: error.hint, cause: error });
    }
    throw error;
  }
}
