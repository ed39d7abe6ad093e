// The reaper's first stage (src/janitor/watchdog-holder.ts), run by the real shells it meets:
// what book it hands to the Node watchdog, that it starts nothing when nothing is guarded, and
// that it hands over when the owner is gone while the pipe stays open. The "Node watchdog" here
// is a shell script that records its arguments and the book it was given on fd 3.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HOLDER_SCRIPT } from "../../src/janitor/watchdog-holder.js";
import { encodeMessage, WATCHDOG_READY, type WatchdogMessage } from "../../src/janitor/watchdog-protocol.js";

const dir = mkdtempSync(join(tmpdir(), "berth-holder-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const recorder = join(dir, "recorder.sh");
writeFileSync(recorder, 'printf "%s\\n" "$@" > "$OUT.args"\ncat <&3 > "$OUT.book"\n');

// The /bin/sh of Debian and Ubuntu (dash), of Alpine and its node images (BusyBox ash), and
// bash, which as /bin/sh runs in POSIX mode (where a trapped signal interrupts `read`): so here
// too. Each that is installed.
const shells = ["/bin/dash", "/bin/bash", "/usr/bin/busybox"].filter((shell) => existsSync(shell));
const shellArgs = (shell: string) =>
  shell.endsWith("bash") ? ["--posix", "-c"] : shell.endsWith("busybox") ? ["sh", "-c"] : ["-c"];
let runs = 0;

function startHolder(shell: string, owner: number) {
  const out = join(dir, `run${runs++}`);
  const child = spawn(
    shell,
    [...shellArgs(shell), HOLDER_SCRIPT, "berth-watchdog", String(owner), "/bin/sh", recorder],
    {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, OUT: out },
      // Its own process group, as berth starts it: what is left of the group is what it left.
      detached: true,
    },
  );
  const ready = new Promise<string>((resolve) => {
    let text = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("\n")) resolve(text.trim());
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const send = (message: WatchdogMessage) => child.stdin!.write(encodeMessage(message));
  const handedOver = () =>
    existsSync(`${out}.args`)
      ? {
          args: readFileSync(`${out}.args`, "utf8").trim().split("\n"),
          book: readFileSync(`${out}.book`, "utf8"),
        }
      : undefined;
  return { child, ready, exited, send, handedOver };
}

const lease = (session: string) => ({
  session,
  project: `app-${session}`,
  image: "sha256:abc",
  labels: { "berth.session": session },
  generation: 1,
  containerId: "c1",
});

/** Whether any process is left in the process group `pgid`. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function bookLines(book: string): unknown[] {
  return book
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe.each(shells)("watchdog holder under %s", (shell) => {
  it("hands the guards and leases still standing to the watchdog at end-of-file", async () => {
    const holder = startHolder(shell, process.pid);
    expect(await holder.ready).toBe(`${WATCHDOG_READY} ${holder.child.pid}`);
    const host = "unix:///var/run/docker.sock";
    holder.send({ op: "guard", session: "a", dockerHost: host });
    holder.send({ op: "guard", session: "ab", dockerHost: host });
    holder.send({ op: "guard", session: 'we"ird', dockerHost: host });
    // A lease whose own object names session "a": releasing "a" must not drop it.
    holder.send({ op: "lease", session: "lease:a", dockerHost: host, lease: lease("a") });
    holder.send({ op: "release", session: "a" });
    holder.send({ op: "release", session: 'we"ird' });
    holder.send({ op: "release", session: "never-guarded" });
    holder.child.stdin!.end();
    expect(await holder.exited).toBe(0);
    const handed = holder.handedOver();
    expect(handed?.args).toEqual(["--owner", String(process.pid), "--book-fd", "3", "--why", "eof"]);
    expect(bookLines(handed!.book)).toEqual([
      { op: "guard", session: "ab", dockerHost: host },
      { op: "lease", session: "lease:a", dockerHost: host, lease: lease("a") },
    ]);
  });

  it("starts nothing when every session was released before end-of-file", async () => {
    const holder = startHolder(shell, process.pid);
    await holder.ready;
    holder.send({ op: "guard", session: "s1", dockerHost: "unix:///a.sock" });
    holder.send({ op: "lease", session: "lease:s1", dockerHost: "unix:///a.sock", lease: lease("s1") });
    holder.send({ op: "release", session: "lease:s1" });
    holder.send({ op: "release", session: "s1" });
    holder.child.stdin!.end();
    expect(await holder.exited).toBe(0);
    expect(holder.handedOver()).toBeUndefined();
    // Its owner check (and the check's sleep) went with it.
    expect(groupAlive(holder.child.pid!)).toBe(false);
  });

  it("hands over with the pipe still open when the owner is gone", async () => {
    const owner: ChildProcess = spawn("sleep", ["0.3"]);
    const ownerExited = new Promise((resolve) => owner.once("exit", resolve));
    const holder = startHolder(shell, owner.pid!);
    await holder.ready;
    holder.send({ op: "guard", session: "s1", dockerHost: "unix:///a.sock" });
    await ownerExited;
    // Its check runs once a second; the pipe stays open (this test holds it).
    expect(await holder.exited).toBe(0);
    const handed = holder.handedOver();
    expect(handed?.args).toEqual(["--owner", String(owner.pid), "--book-fd", "3", "--why", "owner-gone"]);
    expect(bookLines(handed!.book)).toEqual([{ op: "guard", session: "s1", dockerHost: "unix:///a.sock" }]);
    holder.child.stdin!.end();
  });
});

describe("the Node watchdog's start", () => {
  it("imports only built-ins and the message protocol until it reaps", () => {
    const source = readFileSync(new URL("../../src/janitor/watchdog.ts", import.meta.url), "utf8");
    const imports = [...source.matchAll(/^import (?!type )[^;]*? from "([^"]+)";/gms)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((from) => !from!.startsWith("node:") && from !== "./watchdog-protocol.js")).toEqual(
      [],
    );
  });
});
