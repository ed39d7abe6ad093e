// The one service that `single` and `workers` bring up: the busybox fixture's httpd with one port
// published on 127.0.0.1 and an HTTP readiness check, as a berth spec and as a testcontainers
// container (same image and command), and what makes a berth down graceful and verified.
import type { ComposeProject } from "../../src/model/compose.js";
import { defineProject } from "../../src/stack/builder.js";
import type { DownReport } from "../../src/stack/down.js";

process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
// Its wait strategies reach the container through a host name that may resolve to ::1, where
// nothing listens (ports are published on 127.0.0.1 only): name the loopback address.
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";
const { GenericContainer, Wait } = await import("testcontainers");

export const COMMAND = [
  "sh",
  "-c",
  "mkdir -p /www && echo ok > /www/health && trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait",
];

export interface Timing {
  upMs: number;
  downMs: number;
}

/** testcontainers publishes on every interface; the machine's rule is 127.0.0.1 only. */
class LoopbackContainer extends GenericContainer {
  onLoopback(): this {
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
      for (const binding of bindings as { HostIp?: string }[]) binding.HostIp = "127.0.0.1";
    }
    return this;
  }
}

/** The service through testcontainers, ready; `stop()` is its default stop (and removal). */
export function startTestcontainer(image: string, marker: string): Promise<{ stop(): Promise<unknown> }> {
  return new LoopbackContainer(image)
    .withCommand(COMMAND)
    .withExposedPorts(8080)
    .onLoopback()
    .withLabels({ "berth.bench": marker })
    .withWaitStrategy(Wait.forHttp("/health", 8080))
    .start();
}

/** The service as a berth project; `networkMode` as a Compose file's `network_mode` sets it. */
export function singleSpec(image: string, marker: string, networkMode?: string): ComposeProject {
  const spec = defineProject({
    name: "bench-single",
    services: {
      web: {
        image,
        command: COMMAND,
        ports: [{ target: 8080, hostIp: "127.0.0.1", protocol: "tcp" }],
        labels: { "berth.bench": marker },
        wait: [{ kind: "http", port: 8080, path: "/health" }],
      },
    },
  });
  // The builder has no such field.
  if (networkMode) spec.services.web!.networkMode = networkMode;
  return spec;
}

/**
 * Graceful: stopped by its own stop signal (exit 0, not killed after the grace), removed without
 * force. Verified: `down` resolved, so its final listing found nothing of the session left.
 */
export function gracefulAndVerified(report: DownReport): boolean {
  return (
    report.containers.length === 1 &&
    report.containers.every(
      (c) => c.outcome === "exited" && c.exitCode === 0 && c.steps.some((s) => s.step === "remove"),
    )
  );
}
