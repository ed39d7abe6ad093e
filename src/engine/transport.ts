// How bytes reach the daemon for each kind of endpoint: a keep-alive HTTP agent for ordinary
// requests and a raw connection for upgraded ones (attach, exec), over a unix socket, TCP, TLS,
// or an `ssh` process running `docker system dial-stdio` on the remote host (as the docker CLI's
// connection helper does). The proxy's upstream can reuse it.
import { type ChildProcess, spawn } from "node:child_process";
import { Agent as HttpAgent, type RequestOptions } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { isIP, connect as netConnect } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import type { DockerEndpoint, SshEndpoint } from "./docker-host.js";

export interface Transport {
  readonly endpoint: DockerEndpoint;
  /** Options that address the daemon, to merge into `http.request` options. */
  requestOptions(): RequestOptions;
  /** Opens a raw connection (for upgraded requests). */
  connect(): Duplex;
  /** Closes idle connections (and their ssh processes). */
  close(): void;
}

// `servername` is for TLS (SNI) only. Left unset, Node's agent works it out for every request with
// net.isIP(), whose first call compiles a large IPv6 regular expression (~25 ms of a short CLI
// command's start-up); a plain connection needs none. An agent merges its options into every
// request's, so the plain transports' agents carry the empty one.
const AGENT_OPTIONS = {
  keepAlive: true,
  keepAliveMsecs: 1000,
  maxFreeSockets: 64,
  scheduling: "lifo" as const,
};
const PLAIN_AGENT_OPTIONS = { ...AGENT_OPTIONS, servername: "" };

/** Set on the error a failed `ssh` dial ends a connection with; classify makes it "unavailable". */
export const SSH_DIAL_FAILED = "BERTH_SSH_DIAL_FAILED";

export function createTransport(endpoint: DockerEndpoint): Transport {
  if (endpoint.kind === "unix") {
    const agent = new HttpAgent(PLAIN_AGENT_OPTIONS);
    return {
      endpoint,
      requestOptions: () => ({ agent, socketPath: endpoint.socketPath }),
      connect: () => netConnect({ path: endpoint.socketPath, allowHalfOpen: true }),
      close: () => agent.destroy(),
    };
  }
  if (endpoint.kind === "ssh") return sshTransport(endpoint);
  if (endpoint.protocol === "http") {
    const agent = new HttpAgent(PLAIN_AGENT_OPTIONS);
    return {
      endpoint,
      requestOptions: () => ({ agent, host: endpoint.host, port: endpoint.port }),
      connect: () =>
        netConnect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true, noDelay: true }),
      close: () => agent.destroy(),
    };
  }
  const tls = {
    ca: endpoint.tls?.ca,
    cert: endpoint.tls?.cert,
    key: endpoint.tls?.key,
    rejectUnauthorized: endpoint.tls?.verify ?? true,
    // SNI takes host names only; an IP address is checked against the certificate's IP SANs.
    ...(isIP(endpoint.host) ? {} : { servername: endpoint.host }),
  };
  // No TLS session resumption: an OpenSSL server that verifies client certificates without a
  // session id context (socat's OPENSSL-LISTEN with verify=1) answers a resumed session with an
  // "internal error" alert, which would fail every connection after the first. Keep-alive
  // already spares most handshakes.
  const agent = new HttpsAgent({ ...AGENT_OPTIONS, ...tls, maxCachedSessions: 0 });
  return {
    endpoint,
    requestOptions: () => ({ agent, protocol: "https:", host: endpoint.host, port: endpoint.port }),
    connect: () => tlsConnect({ host: endpoint.host, port: endpoint.port, ...tls }),
    close: () => agent.destroy(),
  };
}

/** The `ssh` command line that opens a stdio connection to the remote daemon. */
export function sshCommand(endpoint: SshEndpoint): string[] {
  const args = ["-o", "ConnectTimeout=30", "-T"];
  // A test (or a user) can point ssh at its own configuration file: keys, known hosts, ports.
  if (endpoint.configFile) args.push("-F", endpoint.configFile);
  if (endpoint.user) args.push("-l", endpoint.user);
  if (endpoint.port !== undefined) args.push("-p", String(endpoint.port));
  args.push("--", endpoint.host, "docker", "system", "dial-stdio");
  return args;
}

function sshTransport(endpoint: SshEndpoint): Transport {
  const open = () => new CommandSocket("ssh", sshCommand(endpoint), endpoint.url);
  class SshAgent extends HttpAgent {
    override createConnection(): Duplex {
      return open();
    }
  }
  const agent = new SshAgent(PLAIN_AGENT_OPTIONS);
  return {
    endpoint,
    // The host names the pool only; the agent's connections are ssh processes.
    requestOptions: () => ({ agent, host: "docker" }),
    connect: open,
    close: () => agent.destroy(),
  };
}

/**
 * A connection carried by a child process's stdin and stdout. A process that exits with an error
 * ends the connection with that error and the process's stderr, so a refused or unauthorised ssh
 * login reads as what it is rather than as a "socket hang up".
 */
export class CommandSocket extends Duplex {
  private readonly child: ChildProcess;
  private readonly stderr: Buffer[] = [];

  constructor(command: string, args: string[], endpoint: string) {
    super({ allowHalfOpen: true });
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const { stdin, stdout, stderr } = this.child;
    stdout!.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) stdout!.pause();
    });
    stderr!.on("data", (chunk: Buffer) => {
      if (this.stderr.length < 64) this.stderr.push(chunk);
    });
    stdin!.on("error", () => {});
    this.child.on("error", (error) => this.destroy(error));
    // As a net.Socket says it is connected (the proxy waits for this before forwarding).
    this.child.on("spawn", () => this.emit("connect"));
    // 'close' comes after the process exited and its output was read to the end.
    this.child.on("close", (code, signal) => {
      if (code === 0 || this.destroyed) {
        // The remote side hung up (an idle keep-alive connection the daemon or a relay closed):
        // once the reader has seen the end, the connection is gone both ways, as a net.Socket
        // without half-open would be. An agent then drops it from its pool instead of reusing it.
        this.once("end", () => this.destroy());
        this.push(null);
        return;
      }
      const said = Buffer.concat(this.stderr).toString("utf8").trim();
      const how = code === null ? `was killed by ${signal}` : `exited with ${code}`;
      const error = Object.assign(new Error(`${command} to ${endpoint} ${how}${said ? `: ${said}` : ""}`), {
        code: SSH_DIAL_FAILED,
      });
      this.destroy(error);
    });
  }

  override _read(): void {
    this.child.stdout!.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.child.stdin!.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin!.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    callback(error);
  }

  // What node:http calls on a socket; a process has no Nagle or TCP keep-alive to tune.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once("timeout", callback);
    return this;
  }
  /** An idle pooled connection must not keep the process alive. */
  ref(): this {
    this.child.ref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr])
      (stream as unknown as { ref?: () => void } | null)?.ref?.();
    return this;
  }
  unref(): this {
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr])
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    return this;
  }
}
