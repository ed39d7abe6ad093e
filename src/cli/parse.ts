// Argument parsers shared by commands; each refuses bad input with a usage error (exit 2).
import { InvalidArgumentError } from "commander";
import { parseDuration } from "../model/duration.js";

/**
 * A duration flag (`--timeout`, `--wait`): plain seconds (`30`, `1.5`) or a duration with units
 * (`90s`, `2m`, `1m30s`, `500ms`), in seconds. One rule for every command.
 */
export function parseSeconds(value: string): number {
  const text = value.trim();
  const n = text === "" ? Number.NaN : Number(text);
  if (Number.isFinite(n) && n >= 0) return n;
  try {
    return parseDuration(text) / 1000;
  } catch {
    throw new InvalidArgumentError(
      `Expected seconds (30) or a duration with a unit (90s, 2m, 1m30s, 500ms), got \`${value}\`.`,
    );
  }
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`Expected a whole number from 1 up, got \`${value}\`.`);
  }
  return n;
}

/** A berth parser as a Commander option parser: its error becomes a usage error (exit 2). */
export function optionParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
}

/** Commander's accumulator for a repeatable option (`-f a -f b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
