// `berth doctor`: which endpoint berth chose and why, whether the engine answers, what it is,
// and whether the capabilities berth relies on work there. Never throws for an unreachable
// engine: that is a finding (exit 3), reported with the endpoint and its source.
import type { Engine } from "../engine/engine.js";
import { BerthError, ConfigError, DaemonUnavailableError } from "../engine/errors.js";
import { identifyEngine } from "../engine/identity.js";
import { ensureBusyboxFixture } from "../fixtures/busybox.js";
import { createSession } from "../janitor/session.js";
import {
  type CheckContext,
  checkEvents,
  checkHealthchecks,
  checkMemoryLimits,
  checkOomEvents,
} from "./checks.js";
import { type CheckResult, type DoctorReport, endpointFacts } from "./report.js";

interface DoctorOptions {
  /** Only the endpoint and the engine's facts; no check creates a container. */
  skipChecks?: boolean;
}

function errorFacts(error: unknown): NonNullable<DoctorReport["error"]> {
  if (error instanceof BerthError) {
    return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  }
  return { code: "BERTH_INTERNAL", message: (error as Error)?.message ?? String(error) };
}

const CHECKS: Array<{
  id: CheckResult["id"];
  title: string;
  run: (ctx: CheckContext) => Promise<CheckResult>;
}> = [
  { id: "events", title: "events stream", run: checkEvents },
  { id: "oom-events", title: "OOM kills reported", run: checkOomEvents },
  { id: "healthchecks", title: "healthchecks run by the engine", run: checkHealthchecks },
  { id: "memory-limits", title: "memory limits", run: checkMemoryLimits },
];

export async function runDoctor(engine: Engine, options: DoctorOptions = {}): Promise<DoctorReport> {
  const endpoint = endpointFacts(engine.endpoint);
  let version: Awaited<ReturnType<Engine["version"]>>;
  let info: Record<string, unknown>;
  try {
    await engine.ping();
    [version, info] = await Promise.all([engine.version(), engine.info()]);
  } catch (error) {
    if (error instanceof DaemonUnavailableError) {
      return { endpoint, reachable: false, error: errorFacts(error), checks: [] };
    }
    throw error;
  }
  const identity = identifyEngine(version, info);
  const report: DoctorReport = { endpoint, reachable: true, engine: identity, checks: [] };
  if (options.skipChecks) return report;
  let image: string;
  try {
    image = (await ensureBusyboxFixture(engine)).ref;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const detail = `not tried: no fixture image (${error.message})`;
    report.checks = CHECKS.map((c) => ({ id: c.id, title: c.title, status: "skip", detail }));
    return report;
  }
  const session = createSession(engine, { project: `berth-doctor-${process.pid}` });
  const ctx: CheckContext = { engine, session, image, identity, info };
  try {
    for (const check of CHECKS) {
      report.checks.push(
        await check.run(ctx).catch(
          (error): CheckResult => ({
            id: check.id,
            title: check.title,
            status: "fail",
            detail: `the check itself failed: ${errorFacts(error).message}`,
          }),
        ),
      );
    }
  } finally {
    await session.end();
  }
  return report;
}
