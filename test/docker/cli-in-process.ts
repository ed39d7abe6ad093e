// The CLI run inside the test's own process (from source, no build), its output collected.
// Kept apart from support.ts so that files which never call the CLI do not load it.
import { main } from "../../src/cli/main.js";

/** Runs the CLI in this process (from source) and collects what it prints. */
export async function cliInProcess(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const into = (sink: string[]) =>
    ((chunk: string) => {
      sink.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = into(out);
  process.stderr.write = into(err);
  try {
    const code = await main(["node", "berth", ...args]);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
    process.exitCode = undefined;
  }
}
