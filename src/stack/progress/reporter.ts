// Picks how progress is shown: live lines on an interactive terminal, plain lines when output is
// not a TTY, runs in CI, or NO_COLOR (or TERM=dumb) asks for no escape codes; JSON lines for
// `--json`. Progress goes to stderr so stdout stays clean for
// results (`--json`, `--env`).
import type { ProgressListener } from "./events.js";
import { liveProgress } from "./live.js";
import { jsonProgress, plainProgress } from "./plain.js";

export interface ProgressReporter {
  listener: ProgressListener;
  finish(): Promise<void>;
}

export function isCI(env: Record<string, string | undefined> = process.env): boolean {
  const ci = env.CI?.toLowerCase();
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
}

export async function createReporter(options: {
  json?: boolean;
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
}): Promise<ProgressReporter> {
  const stream = options.stream ?? process.stderr;
  const write = (line: string) => void stream.write(line);
  if (options.quiet) return { listener: () => {}, finish: async () => {} };
  if (options.json) return { listener: jsonProgress(write), finish: async () => {} };
  if (stream.isTTY && !isCI() && !process.env.NO_COLOR && process.env.TERM !== "dumb")
    return liveProgress(stream);
  return { listener: plainProgress(write), finish: async () => {} };
}
