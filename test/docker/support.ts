// Shared helpers for real-daemon tests: one engine, the fixture image, unique names, and labels
// that tie every raw-created resource to this test run (so the leak check can see it).
import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { waitForOutputLine } from "../../src/lifecycle/wait/output-line.js";

export const engine = new Engine();

export function fixtureImage(): string {
  return inject("fixtureImage");
}

export function uniqueName(prefix: string): string {
  return `berth-test-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Labels for resources a test creates without berth, so the suite's leak check owns them. */
export function testLabels(extra: Record<string, string> = {}): Record<string, string> {
  return { "berth.suite": inject("suiteId"), ...extra };
}

/** What a trapping command prints once its SIGTERM trap is installed. */
export const READY_LINE = "berth-ready";

/**
 * A shell loop that traps SIGTERM, writes a marker file, and exits 0. It prints READY_LINE once
 * the trap is set: a SIGTERM that arrives before that (the shell is PID 1, which ignores it) is
 * not the code under test's fault, so tests that check the trap wait for the line first.
 */
export function trappingCommand(marker = "/tmp/terminated"): string[] {
  return ["sh", "-c", `trap 'echo trapped > ${marker}; exit 0' TERM; echo ${READY_LINE}; sleep 3600 & wait`];
}

/** Waits until the container's output contains `line` (default READY_LINE); throws after `timeoutMs`. */
export async function waitForLine(id: string, line = READY_LINE, timeoutMs = 60_000): Promise<void> {
  await waitForOutputLine(engine, id, line, { timeoutMs });
}

/** Creates and starts a busybox fixture container labelled for this run. */
export async function startFixture(options: {
  name?: string;
  cmd?: string[];
  stopTimeout?: number;
  restart?: "no" | "always" | "unless-stopped" | "on-failure";
  volumes?: Record<string, object>;
  labels?: Record<string, string>;
}): Promise<{ id: string; name: string }> {
  const name = options.name ?? uniqueName("c");
  const { id } = await engine.createContainer({
    name,
    Image: fixtureImage(),
    Cmd: options.cmd ?? trappingCommand(),
    Labels: testLabels(options.labels),
    StopTimeout: options.stopTimeout,
    Volumes: options.volumes,
    HostConfig: options.restart ? { RestartPolicy: { Name: options.restart } } : {},
  } as Parameters<Engine["createContainer"]>[0]);
  try {
    await engine.startContainer(id);
    if (!options.cmd) await waitForLine(id);
  } catch (error) {
    // A container that never started is not running: a plain removal is safe, and nothing leaks.
    await engine.removeContainer(id, { volumes: true }).catch(() => {});
    throw error;
  }
  return { id, name };
}
