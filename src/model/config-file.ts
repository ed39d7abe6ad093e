// Reading a file a person names (a limit profile, a proxy policy, a results file): a file that
// cannot be read or parsed is a configuration error (exit 2) naming the file and what it was for.
import { readFileSync } from "node:fs";
import { type BerthErrorDetails, ConfigError } from "../engine/errors.js";

export interface ConfigFileOptions {
  /** What the file is, in messages: `limit profile`, `policy file`, `results file`. */
  what: string;
  /** The format `parse` reads, in messages: `YAML`, `JSON`. */
  format: string;
  parse(text: string): unknown;
  /** Reads the file's text (default: fs.readFileSync as UTF-8). */
  read?: (file: string) => string;
  hint?: string;
  /** The ConfigError subclass to throw, when the caller has its own code. */
  error?: new (
    message: string,
    details: BerthErrorDetails,
  ) => ConfigError;
}

/** The file's parsed contents; the caller checks their shape. */
export function readConfigFile(file: string, options: ConfigFileOptions): unknown {
  const { what, format, hint, error: ErrorClass = ConfigError } = options;
  const fail = (message: string, cause: unknown) =>
    new ErrorClass(`${message}: ${(cause as Error).message}`, { resource: file, hint, cause });
  let text: string;
  try {
    text = options.read ? options.read(file) : readFileSync(file, "utf8");
  } catch (error) {
    throw fail(`cannot read ${what} ${file}`, error);
  }
  try {
    return options.parse(text);
  } catch (error) {
    throw fail(`${what} ${file} is not valid ${format}`, error);
  }
}
