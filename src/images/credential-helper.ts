// Asks a docker credential helper (`docker-credential-NAME get`, the docker CLI's protocol: the
// server address on stdin, `{ServerURL, Username, Secret}` as JSON on stdout) for a registry's
// credentials. A helper that has none answers "credentials not found": that is anonymous access,
// not an error. A helper that is missing or fails is a CredentialsError naming it.
import { spawn } from "node:child_process";
import { CredentialsError } from "./errors.js";
import { redactSecrets, rememberSecret } from "./secrets.js";

interface HelperCredentials {
  username: string;
  secret: string;
}

const HELPER_TIMEOUT_MS = 30_000;
/** The helper's identity token convention: this username means the secret is a token. */
export const TOKEN_USERNAME = "<token>";

function run(
  program: string,
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    const child = spawn(program, ["get"], { stdio: ["pipe", "pipe", "pipe"], timeout: HELPER_TIMEOUT_MS });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", (error: NodeJS.ErrnoException) => resolve({ code: null, stdout, stderr, error }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

/** Credentials for `serverAddress` from `docker-credential-<helper>`, or undefined when it has none. */
export async function helperCredentials(
  helper: string,
  serverAddress: string,
  source: string,
): Promise<HelperCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const result = await run(program, serverAddress);
  if (result.error) {
    const missing = result.error.code === "ENOENT";
    throw new CredentialsError(
      missing
        ? `Credential helper ${program} (${source}) is not installed: it is not on PATH`
        : `Credential helper ${program} (${source}) could not be run: ${result.error.code ?? result.error.message}`,
      {
        resource: program,
        hint: missing
          ? `Install ${program}, or remove "${helper}" from ${source} to pull without it.`
          : `Check that ${program} is executable.`,
      },
    );
  }
  const said = `${result.stdout}\n${result.stderr}`.trim();
  if (result.code !== 0) {
    if (/credentials not found/i.test(said)) return undefined;
    throw new CredentialsError(
      `Credential helper ${program} (${source}) failed for ${serverAddress} (exit ${result.code}): ${redactSecrets(said.split("\n")[0] ?? "").slice(0, 200)}`,
      { resource: program, hint: `Run \`echo ${serverAddress} | ${program} get\` to see what it says.` },
    );
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(result.stdout) as typeof parsed;
  } catch {
    throw new CredentialsError(
      `Credential helper ${program} (${source}) answered something that is not JSON`,
      {
        resource: program,
        hint: 'A helper must print {"ServerURL", "Username", "Secret"} for `get`.',
      },
    );
  }
  if (typeof parsed.Secret !== "string" || parsed.Secret === "") return undefined;
  rememberSecret(parsed.Secret);
  return { username: typeof parsed.Username === "string" ? parsed.Username : "", secret: parsed.Secret };
}
