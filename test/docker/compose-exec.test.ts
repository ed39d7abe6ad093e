// `berth exec` attached, through the built CLI against the real daemon: piped stdin forwarded and
// closed at its end, the command's exit code passed on, and under a real pseudo-terminal (util-
// linux `script`) a TTY in the container, its size passed and followed on SIGWINCH, the local
// terminal's mode restored afterwards (after a signal too), and `-T` giving no TTY.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ComposeDir, composeDir, projectResources } from "./stack-fixtures.js";
import { fixtureImage } from "./support.js";

const BERTH = `${process.execPath} ${join(process.cwd(), "bin", "berth.js")}`;

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` with sh in `cwd`. `input` is written to its stdin and then closed; without it
 * stdin stays an open pipe until the process ends (as a terminal that nobody types into).
 */
function sh(command: string, cwd: string, env: Record<string, string>, input?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], {
      cwd,
      env: { ...process.env, CI: "true", NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.stdin.on("error", () => {});
    if (input !== undefined) child.stdin.end(input);
    child.on("error", reject);
    child.on("close", (code) => {
      child.stdin.destroy();
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a shell script inside a new pseudo-terminal (`script`), exiting with the script's code. */
function underTerminal(dir: ComposeDir, name: string, lines: string[], env: Record<string, string>) {
  dir.file(name, `${lines.join("\n")}\n`);
  return sh(`script -qec "sh ${name}" /dev/null`, dir.dir, env);
}

describe("berth exec attached (built CLI, real daemon)", () => {
  const dir = composeDir();
  const name = `exec${randomUUID().slice(0, 8)}`;
  const env = { COMPOSE_PROJECT_NAME: name };

  beforeAll(async () => {
    dir.file(
      "compose.yaml",
      `services:\n  s:\n    image: ${fixtureImage()}\n    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]\n`,
    );
    const up = await sh(`${BERTH} up`, dir.dir, env, "");
    expect(up.code, up.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await sh(`${BERTH} down -t 1`, dir.dir, env, "");
    dir.remove();
    expect(await projectResources(name)).toEqual([]);
  }, 60_000);

  it("forwards piped stdin and closes it at its end", async () => {
    const cat = await sh(`${BERTH} exec s cat`, dir.dir, env, "a\nb\n");
    expect(cat).toMatchObject({ code: 0, stdout: "a\nb\n" });
  });

  it("exits with the command's exit code, stdout and stderr apart, while stdin stays open", async () => {
    const exited = await sh(`${BERTH} exec s sh -c 'echo out; echo err >&2; exit 7'`, dir.dir, env);
    expect(exited).toMatchObject({ code: 7, stdout: "out\n", stderr: "err\n" });
  });

  it("allocates a TTY when stdin is a terminal, and none with -T", async () => {
    const tty = await underTerminal(dir, "tty.sh", [`${BERTH} exec s tty`], env);
    expect(tty.code, tty.stdout + tty.stderr).toBe(0);
    expect(tty.stdout).toMatch(/^\/dev\/pts\/\d+\r?\r\n$/);
    const noTty = await underTerminal(dir, "no-tty.sh", [`${BERTH} exec -T s tty`], env);
    expect(noTty.code).toBe(1);
    expect(noTty.stdout).toMatch(/^not a tty\r?\n$/);
  });

  it("passes the terminal's size, follows SIGWINCH and restores the terminal's mode", async () => {
    // The command waits to see the size berth passed, says so, then waits for the new size
    // (stty sets rows and columns one at a time: each is a SIGWINCH).
    // Every wait is bounded (30 s) and says where it stuck, so a failure is not a bare timeout.
    const inner = [
      'i=0; until [ "$(stty size 2>/dev/null)" = "33 101" ]; do i=$((i+1)); [ $i -gt 300 ] && { echo "stuck at $(stty size)"; exit 5; }; sleep 0.1; done; echo sized',
      'i=0; until [ "$(stty size)" = "40 120" ]; do i=$((i+1)); [ $i -gt 300 ] && { echo "stuck at $(stty size)"; exit 6; }; sleep 0.1; done; echo resized; exit 4',
    ].join("; ");
    const outcome = await underTerminal(
      dir,
      "winch.sh",
      [
        "stty rows 33 cols 101",
        'before="$(stty -g)"',
        `${BERTH} exec s sh -c '${inner}' </dev/tty >winch.out &`,
        "pid=$!",
        "i=0; until grep -qE '^(sized|stuck)' winch.out 2>/dev/null; do i=$((i+1)); [ $i -gt 400 ] && break; sleep 0.1; done",
        '[ "$(stty -g)" = "$before" ] || echo raw-while-attached',
        "stty rows 40 cols 120",
        'wait "$pid"; echo "exit $?"',
        '[ "$(stty -g)" = "$before" ] && echo restored',
        "cat winch.out",
      ],
      env,
    );
    expect(outcome.stdout.replace(/\r/g, "").split("\n")).toEqual([
      "raw-while-attached",
      "exit 4",
      "restored",
      "sized",
      "resized",
      "",
    ]);
  });

  it("restores the terminal's mode when a signal ends berth", async () => {
    const outcome = await underTerminal(
      dir,
      "signal.sh",
      [
        'before="$(stty -g)"',
        `${BERTH} exec s sh -c 'echo attached; sleep 60' </dev/tty >signal.out &`,
        "pid=$!",
        "until grep -q attached signal.out 2>/dev/null; do sleep 0.1; done",
        'kill -TERM "$pid"; wait "$pid"; echo "exit $?"',
        '[ "$(stty -g)" = "$before" ] && echo restored',
      ],
      env,
    );
    expect(outcome.stdout.replace(/\r/g, "")).toBe("exit 143\nrestored\n");
  });
});
