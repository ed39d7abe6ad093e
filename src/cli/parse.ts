// Argument parsers shared by commands; each refuses bad input with a usage error (exit 2).
import { InvalidArgumentError } from "commander";

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || value.trim() === "") {
    throw new InvalidArgumentError(`Expected a number of seconds from 0 up, got \`${value}\`.`);
  }
  return n;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`Expected a whole number from 1 up, got \`${value}\`.`);
  }
  return n;
}
