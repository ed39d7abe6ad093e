// The ssh transport's connection (a child process's stdin and stdout) in a keep-alive pool: when
// the remote side hangs up an idle connection, the pool drops it and the next request opens a
// new one (it used to reuse the dead one: "Cannot call write after a stream was destroyed").
import { Agent, request } from "node:http";
import { describe, expect, it } from "vitest";
import { CommandSocket } from "../../src/engine/transport.js";

/** Answers one request, then exits 0 a moment later, as `docker system dial-stdio` does when the daemon closes. */
const ONE_ANSWER = `head -c 16 >/dev/null; printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok'; sleep 0.2`;

describe("CommandSocket in a keep-alive agent", () => {
  it("is dropped from the pool when its process exits, so the next request gets a new one", async () => {
    let opened = 0;
    class ProcessAgent extends Agent {
      override createConnection() {
        opened++;
        return new CommandSocket("sh", ["-c", ONE_ANSWER], "test://one-answer") as never;
      }
    }
    const agent = new ProcessAgent({ keepAlive: true });
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = request({ agent, host: "docker", path: "/_ping" }, (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        req.end();
      });
    try {
      expect(await get()).toBe("ok");
      // The first process has exited by now.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await get()).toBe("ok");
      expect(opened).toBe(2);
    } finally {
      agent.destroy();
    }
  });

  it("ends with the process's words when it fails", async () => {
    const socket = new CommandSocket(
      "sh",
      ["-c", "echo 'Permission denied (publickey)' >&2; exit 255"],
      "ssh://x",
    );
    const error = await new Promise<Error>((resolve) => socket.once("error", resolve));
    expect(error.message).toBe("sh to ssh://x exited with 255: Permission denied (publickey)");
  });
});
