import { globalTeardown } from "berth-docker/jest";

export default globalTeardown();
