// Commands run inside containers (exec) and attaching to a container's own streams.
import type { Duplex, Readable } from "node:stream";
import { ContainerApi } from "./container-api.js";
import { path } from "./core.js";
import { demuxDockerStream } from "./demux.js";
import { hijack, type RequestSpec, readBody } from "./http.js";
import type { ExecInspect } from "./types.js";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecStartOptions {
  env?: string[];
  user?: string;
  workingDir?: string;
  /** Attach the command's standard input. */
  stdin?: boolean;
  /** Allocate a pseudo-terminal (output then comes unframed, stdout and stderr as one). */
  tty?: boolean;
  signal?: AbortSignal;
}

export interface AttachOptions {
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  /** Also send the output the container wrote before the attach. */
  logs?: boolean;
  signal?: AbortSignal;
}

export class ExecApi extends ContainerApi {
  /** Creates the exec instance of `cmd` in the container; answers its id. */
  private async createExec(id: string, cmd: string[], options: ExecStartOptions): Promise<string> {
    const { signal } = options;
    const created = await this.call(
      "container.exec-create",
      () =>
        this.json<{ Id: string }>({
          method: "POST",
          path: `/containers/${path(id)}/exec`,
          body: {
            Cmd: cmd,
            AttachStdin: options.stdin ?? false,
            AttachStdout: true,
            AttachStderr: true,
            Tty: options.tty ?? false,
            Env: options.env,
            User: options.user,
            WorkingDir: options.workingDir,
          },
          signal,
        }),
      { resource: id, signal },
    );
    return created.Id;
  }

  /** Starts an exec instance on an upgraded connection (its standard streams). */
  private hijackExec(execId: string, tty: boolean, signal?: AbortSignal): Promise<Duplex> {
    return hijack(this.link(), {
      method: "POST",
      path: `/exec/${path(execId)}/start`,
      body: { Detach: false, Tty: tty },
      signal,
    }) as Promise<Duplex>;
  }

  /** Runs a command inside the container and collects its output and exit code. */
  async exec(
    id: string,
    cmd: string[],
    options: { env?: string[]; user?: string; workingDir?: string; signal?: AbortSignal } = {},
  ): Promise<ExecResult> {
    const { signal } = options;
    const execId = await this.createExec(id, cmd, options);
    // Nothing is written: stdin was not attached, and TLS has no half-close to say so.
    const output = await this.call(
      "container.exec-start",
      async () => readBody(await this.hijackExec(execId, false, signal)),
      { resource: id, signal },
    );
    const inspected = await this.call(
      "container.exec-inspect",
      () => this.json<ExecInspect>({ method: "GET", path: `/exec/${path(execId)}/json` }),
      { resource: id },
    );
    const { stdout, stderr } = demuxDockerStream(output);
    return { exitCode: inspected.ExitCode ?? -1, stdout, stderr };
  }

  /**
   * Starts a command in the container with its standard streams on one upgraded connection:
   * what is written to `stream` is the command's stdin (when `stdin`; ending it closes stdin),
   * and its output comes back raw with a `tty`, framed as `FrameDecoder` reads it without.
   * `resizeExec` sizes the terminal; `inspectExec` reads the exit code once the output ended.
   */
  async startExec(
    id: string,
    cmd: string[],
    options: ExecStartOptions = {},
  ): Promise<{ execId: string; stream: Duplex }> {
    const { signal } = options;
    const execId = await this.createExec(id, cmd, options);
    const stream = await this.call(
      "container.exec-start",
      () => this.hijackExec(execId, options.tty ?? false, signal),
      { resource: id, signal },
    );
    return { execId, stream };
  }

  /** Sets the size of an exec's terminal (it must be running). */
  resizeExec(execId: string, size: { rows: number; columns: number }): Promise<void> {
    const request: RequestSpec = {
      method: "POST",
      path: `/exec/${path(execId)}/resize`,
      query: { h: size.rows, w: size.columns },
    };
    return this.callStatus("container.exec-resize", request, { resource: execId });
  }

  inspectExec(execId: string): Promise<ExecInspect> {
    return this.callGet("container.exec-inspect", `/exec/${path(execId)}/json`, execId);
  }

  /**
   * Attaches to the container: the raw, upgraded connection (stdin written to it; output framed
   * as `FrameDecoder` reads it unless the container has a TTY).
   */
  attach(id: string, options: AttachOptions = {}): Promise<Readable & NodeJS.WritableStream> {
    return this.call(
      "container.attach",
      async () =>
        (await hijack(this.link(), {
          method: "POST",
          path: `/containers/${path(id)}/attach`,
          query: {
            stream: true,
            stdin: options.stdin ?? false,
            stdout: options.stdout ?? true,
            stderr: options.stderr ?? true,
            logs: options.logs ?? false,
          },
          signal: options.signal,
        })) as Readable & NodeJS.WritableStream,
      { resource: id, signal: options.signal },
    );
  }
}
