// The built CLI run as its own process with an environment of the test's choosing (DOCKER_HOST,
// DOCKER_CONTEXT, DOCKER_CONFIG), so endpoint resolution sees exactly what a user's shell gives it.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const BERTH_BIN = join(process.cwd(), "bin", "berth.js");

/** Variables that pick an endpoint; removed from the parent's environment before `env` is applied. */
const ENDPOINT_VARIABLES = [
  "DOCKER_HOST",
  "DOCKER_CONTEXT",
  "DOCKER_CONFIG",
  "DOCKER_TLS",
  "DOCKER_TLS_VERIFY",
  "DOCKER_CERT_PATH",
];

export async function berthWith(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !ENDPOINT_VARIABLES.includes(key)),
  );
  try {
    const { stdout, stderr } = await run(process.execPath, [BERTH_BIN, ...args], {
      cwd,
      env: { ...base, CI: "true", ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
