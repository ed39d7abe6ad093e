// Shared pieces of the stack tests: busybox services (httpd with a health endpoint), compose
// files written to a temporary directory, and a look at what a session left on the daemon.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LABELS } from "../../src/janitor/labels.js";
import { engine } from "./support.js";

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

/** Everything on the daemon labelled with the session (containers, networks, volumes). */
export async function sessionResources(session: string): Promise<string[]> {
  const label = [`${LABELS.session}=${session}`];
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters: { label } }),
    engine.listNetworks({ label }),
    engine.listVolumes({ label }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}

/** The same, selected by project. */
export async function projectResources(project: string): Promise<string[]> {
  const label = [`${LABELS.project}=${project}`];
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters: { label } }),
    engine.listNetworks({ label }),
    engine.listVolumes({ label }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}
