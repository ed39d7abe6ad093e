// Preloaded with `node --require` into a benchmarked process: when it exits, appends its peak
// resident set size (VmHWM, in kB) and the CPU time it used (user + system, in µs) to the file
// named by BERTH_BENCH_PEAK_RSS_FILE. CommonJS, so that it does not start Node's ES module loader
// in a process whose entry (bin/berth.js) would not: `--import` did, and added ~4 MB and CPU to
// every CommonJS command measured.
const { appendFileSync, readFileSync } = require("node:fs");

const file = process.env.BERTH_BENCH_PEAK_RSS_FILE;
if (file) {
  process.on("exit", () => {
    const peak = /VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    const cpu = process.cpuUsage();
    if (peak) appendFileSync(file, `${peak} ${cpu.user + cpu.system}\n`);
  });
}
