import { fileURLToPath } from "node:url";
import { berthGlobalSetup } from "berth-docker/vitest";

export default berthGlobalSetup({
  files: ["compose.yml"],
  cwd: fileURLToPath(new URL(".", import.meta.url)),
});
