// The consumer tests' workshop: the packed package (`npm pack`, as published) installed into a
// new project directory, beside the test runners a user would have. Jest comes from
// test/consumer/tools (its own lock file, installed once into .cache per lock); vitest,
// typescript and @types/node are the repository's own, linked in after the install.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const repo = process.cwd();
const cache = join(repo, ".cache");

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; a failure carries its output, so the test says what the consumer saw. */
export async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CommandResult> {
  try {
    return await exec(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 150_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${options.cwd}:\n${stdout}\n${stderr}`, {
      cause: error,
    });
  }
}

/** Jest, installed once per lock file into .cache/consumer-tools-HASH (CI: once per machine). */
export async function consumerTools(): Promise<string> {
  const tools = join(repo, "test", "consumer", "tools");
  const lock = readFileSync(join(tools, "package-lock.json"));
  const dir = join(cache, `consumer-tools-${createHash("sha256").update(lock).digest("hex").slice(0, 12)}`);
  if (!existsSync(join(dir, "node_modules", ".package-lock.json"))) {
    mkdirSync(dir, { recursive: true });
    cpSync(join(tools, "package.json"), join(dir, "package.json"));
    cpSync(join(tools, "package-lock.json"), join(dir, "package-lock.json"));
    await run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: dir });
  }
  return dir;
}

export interface Consumer {
  /** The project directory: package.json depending on the tarball, node_modules, the projects. */
  dir: string;
  tarball: string;
  remove(): void;
}

/**
 * Packs the package (dist must be built: `npm test`'s pretest does it) and installs the tarball
 * into a new project in the temp directory, outside the repository so that nothing resolves
 * from the repository's node_modules by accident, with test/consumer/projects copied beside it.
 */
export async function installConsumer(): Promise<Consumer> {
  const dir = mkdtempSync(join(tmpdir(), "berth-consumer-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
      cwd: repo,
    });
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    const tarball = join(dir, filename);
    cpSync(join(repo, "test", "consumer", "projects"), dir, { recursive: true });
    await run("npm", ["init", "-y"], { cwd: dir });
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], { cwd: dir });
    const modules = join(dir, "node_modules");
    mkdirSync(join(modules, "@types"), { recursive: true });
    for (const linked of ["vitest", "typescript", "@types/node"]) {
      if (!existsSync(join(modules, linked)))
        symlinkSync(join(repo, "node_modules", linked), join(modules, linked), "dir");
    }
    return { dir, tarball, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

export interface InstalledPackage {
  path: string;
  hasInstallScript: boolean;
}

/** What npm installed for the tarball (its hidden lock file), berth-docker itself excluded. */
export function installedPackages(consumer: Consumer): InstalledPackage[] {
  const lock = JSON.parse(readFileSync(join(consumer.dir, "node_modules", ".package-lock.json"), "utf8")) as {
    packages: Record<string, { hasInstallScript?: boolean; link?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith("node_modules/") && !entry.link)
    .filter(([path]) => path !== "node_modules/berth-docker")
    .map(([path, entry]) => ({ path, hasInstallScript: entry.hasInstallScript === true }));
}

/** A Node.js binary of another major version (scripts/node-binary.sh installs it once). */
export async function nodeBinary(major: number): Promise<string> {
  const { stdout } = await run("bash", [join(repo, "scripts", "node-binary.sh"), String(major)], {
    cwd: repo,
  });
  return stdout.trim();
}
