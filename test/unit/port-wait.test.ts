// Reading a container's listening sockets from its /proc tables (as the port wait does).
import { describe, expect, it } from "vitest";
import { listeningPorts, parseListeningPorts } from "../../src/lifecycle/wait/port.js";

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8863721 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8863722 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 8863723 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8863724 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:18EB 00000000000000000000000000000000:0000 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0000000000000000
`;

describe("the listening ports of a /proc/net table", () => {
  it("are the sockets in state LISTEN (0A), IPv4 and IPv6, and no connected or closing ones", () => {
    expect([...parseListeningPorts(TCP)].sort()).toEqual([3306, 8080]);
    expect([...parseListeningPorts(TCP6)]).toEqual([5432]);
  });

  it("are none in an empty table", () => {
    expect(parseListeningPorts(TCP.split("\n")[0] as string).size).toBe(0);
    expect(parseListeningPorts("").size).toBe(0);
  });

  it("are not read through a process that is not in the container's cgroup", () => {
    // This test's own process is in no container: its sockets say nothing about one.
    expect(listeningPorts(process.pid, "0123456789abcdef0123456789abcdef")).toBeUndefined();
    expect(listeningPorts(2 ** 22 + 7, "0123456789abcdef")).toBeUndefined();
  });
});
