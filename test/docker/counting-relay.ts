// The daemon's side of the remote endpoints: the answer relay with no rules in front of the local
// daemon, counting the lifecycle calls (create, start, stop, remove, ...) in flight there, the
// measuring point behind a TLS relay or an sshd where berth's own figures cannot be seen.
import { resolveDockerEndpoint } from "../../src/engine/docker-host.js";
import { startAnswerRelay } from "../../src/validate/answer-relay.js";

export interface CountingRelay {
  readonly socketPath: string;
  /** The most lifecycle calls in flight at once since the last reset, and how many there were. */
  lifecycle(): { maxInFlight: number; total: number };
  reset(): void;
  stop(): Promise<void>;
}

export async function startCountingRelay(): Promise<CountingRelay> {
  const daemon = resolveDockerEndpoint({ DOCKER_HOST: "unix:///var/run/docker.sock" });
  const relay = await startAnswerRelay(daemon, [], "lifecycle");
  const { counted } = relay;
  return {
    socketPath: relay.dockerHost.slice("unix://".length),
    lifecycle: () => ({ maxInFlight: counted.most, total: counted.total }),
    reset: () => {
      counted.most = counted.open;
      counted.total = 0;
    },
    stop: () => relay.close(),
  };
}
