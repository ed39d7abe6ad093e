import { fileURLToPath } from "node:url";
import { globalSetup } from "berth-docker/jest";

export default globalSetup({ files: ["../compose.yml"], cwd: fileURLToPath(new URL(".", import.meta.url)) });
