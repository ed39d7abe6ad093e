// Shared pieces of the stack tests: busybox services (httpd with a health endpoint), compose
// files written to a temporary directory, a look at what a session left on the daemon, and the
// built CLI run as its own process.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { LABELS } from "../../src/model/labels.js";
import { engine } from "./support.js";

const run = promisify(execFile);
const BERTH_BIN = join(process.cwd(), "bin", "berth.js");

/** A shell command serving /www on 8080 with /health, that exits 0 on SIGTERM. */
export function httpdCommand(content = "hello", prelude = ""): string[] {
  return [
    "sh",
    "-c",
    `${prelude}mkdir -p /www && echo ${content} > /www/index.html && echo ok > /www/health && trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait`,
  ];
}

export const HTTP_HEALTHCHECK = ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/health"];

export interface ComposeDir {
  dir: string;
  file(name: string, text: string): string;
  remove(): void;
}

export function composeDir(): ComposeDir {
  const dir = mkdtempSync(join(tmpdir(), "berth-stack-"));
  return {
    dir,
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Everything on the daemon with `label` (containers, networks, volumes), as "kind name" lines. */
async function labelledResources(label: string): Promise<string[]> {
  const filters = [label];
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters: { label: filters } }),
    engine.listNetworks({ label: filters }),
    engine.listVolumes({ label: filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}

/** Everything on the daemon labelled with the session. */
export function sessionResources(session: string): Promise<string[]> {
  return labelledResources(`${LABELS.session}=${session}`);
}

/** The same, selected by project. */
export function projectResources(project: string): Promise<string[]> {
  return labelledResources(`${LABELS.project}=${project}`);
}

/** Runs the built CLI (`bin/berth.js`) in `cwd` as its own process; a failing exit is an answer, not a throw. */
export function berthProcess(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code?: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BERTH_BIN, ...args], {
    cwd,
    env: { ...process.env, CI: "true", ...env },
  }).catch((e: { code: number; stdout: string; stderr: string }) => e);
}
