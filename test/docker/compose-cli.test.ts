// Compose command-line habits against the real daemon, through the built CLI: COMPOSE_FILE (two
// files, PATH-separated) and COMPOSE_PROJECT_NAME, `up -d --wait`, `port`, `exec`, logs of two
// services interleaved in time order, and `down -f` finding the project from the file.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { composeDir, projectResources } from "./stack-fixtures.js";
import { fixtureImage } from "./support.js";

const run = promisify(execFile);
const BERTH_BIN = join(process.cwd(), "bin", "berth.js");

function berth(args: string[], cwd: string, env: Record<string, string> = {}) {
  const clean: Record<string, string | undefined> = { ...process.env, CI: "true", NO_COLOR: "1" };
  delete clean.COMPOSE_FILE;
  delete clean.COMPOSE_PROJECT_NAME;
  return run(process.execPath, [BERTH_BIN, ...args], { cwd, env: { ...clean, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

/**
 * Prints NAME-1..3 a second apart after `start`, then stays. `a` starts once b's httpd answers,
 * `b` half a second after its httpd starts: their lines interleave.
 */
function talker(name: string, start: string): string {
  const lines = [1, 2, 3].map((i) => `echo ${name}-${i}`).join("; sleep 1; ");
  return JSON.stringify(["sh", "-c", `${start}; ${lines}; trap 'exit 0' TERM; sleep 3600 & wait`]);
}

describe("Compose command-line habits (built CLI, real daemon)", () => {
  it("COMPOSE_FILE, COMPOSE_PROJECT_NAME, up -d --wait, port, exec, interleaved logs, down -f", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    const name = `habits${randomUUID().slice(0, 8)}`;
    const image = fixtureImage();
    dir.file(
      "base.yml",
      `name: ${name}\nservices:\n  a:\n    image: ${image}\n    command: ${talker("a", "until wget -q -O- http://b:8080/ >/dev/null 2>&1; do sleep 0.1; done")}\n    x-berth: {wait: [{log: a-3}]}\n`,
    );
    dir.file(
      "more.yml",
      `services:\n  b:\n    image: ${image}\n    command: ${talker("b", "mkdir -p /www && echo hi > /www/index.html && httpd -p 8080 -h /www; sleep 0.5")}\n    ports: ["8080"]\n    x-berth: {wait: [{log: b-3}]}\n`,
    );
    const env = { COMPOSE_FILE: ["base.yml", "more.yml"].join(delimiter), COMPOSE_PROJECT_NAME: name };
    try {
      const upped = await berth(["up", "-d", "--wait"], dir.dir, env);
      expect(upped.code, upped.stderr).toBe(0);
      expect(upped.stderr).not.toMatch(/\x1b\[/);
      expect(upped.stderr).toContain(`project ${name} is up`);

      const port = await berth(["port", "b", "8080"], dir.dir, env);
      expect(port.stdout).toMatch(/^127\.0\.0\.1:\d+\n$/);
      expect(await (await fetch(`http://${port.stdout.trim()}/`)).text()).toBe("hi\n");

      const exec = await berth(
        ["exec", "-T", "-e", "GREETING=hello", "a", "sh", "-c", "echo $GREETING; exit 3"],
        dir.dir,
        env,
      );
      expect(exec).toMatchObject({ code: 3, stdout: "hello\n" });

      const logs = await berth(["logs"], dir.dir, env);
      expect(logs.code, logs.stderr).toBe(0);
      const stamped = await berth(["logs", "--timestamps"], dir.dir, env);
      const lines = stamped.stdout.split("\n").filter(Boolean);
      const times = lines.map((line) => Date.parse(line.split(" ")[2]!));
      expect(times).toHaveLength(6);
      // In time order across services (which service speaks first depends on the machine's pace).
      expect([...times].sort((x, y) => x - y)).toEqual(times);
      const plain = lines.map((line) =>
        line
          .split(" ")
          .filter((_, i) => i !== 2)
          .join(" "),
      );
      expect(logs.stdout).toBe(`${plain.join("\n")}\n`);
      expect([...plain].sort()).toEqual(["a | a-1", "a | a-2", "a | a-3", "b | b-1", "b | b-2", "b | b-3"]);
      // Interleaved, not one service's output after the other's.
      const speakers = plain.map((line) => line[0]).join("");
      expect(speakers).not.toMatch(/^(aaabbb|bbbaaa)$/);
      const tail = await berth(["logs", "b", "--timestamps", "--tail", "1"], dir.dir, env);
      expect(tail.stdout).toMatch(/^b \| \d{4}-\d\d-\d\dT[\d:.]+Z b-3\n$/);

      const json = await berth(["exec", "--json", "nosuch", "true"], dir.dir, env);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: "BERTH_NOT_FOUND" } });

      // No COMPOSE_PROJECT_NAME: down finds the running project of the files.
      const down = await berth(["down", "-f", "base.yml", "-f", "more.yml", "-t", "2s"], dir.dir);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toContain(`project ${name}: removed 2 container(s)`);
      expect(await projectResources(name)).toEqual([]);
    } finally {
      await berth(["down", "-p", name], dir.dir);
      dir.remove();
    }
  });
});
