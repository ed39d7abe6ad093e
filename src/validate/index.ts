// `berth-docker/validate`: the stability validation from code (what `berth validate` runs), its
// results model and its reports.
export { CATEGORIES, selectCategories } from "./catalogue.js";
export type {
  CategorySummary,
  ConcurrencyFigure,
  Evidence,
  EvidenceValue,
  MachineFacts,
  PerfOperation,
  ScenarioResult,
  ScenarioStatus,
  ValidationResults,
} from "./model.js";
export { RESULTS_SCHEMA } from "./model.js";
export type { LatencyChange, RunComparison, ScenarioChange } from "./report/compare.js";
export { compareRuns } from "./report/compare.js";
export { readResults, writeReportDir } from "./report/files.js";
export { renderHtml } from "./report/html.js";
export { renderMarkdown } from "./report/markdown.js";
export type { ProgressEvent, RunOptions } from "./runner.js";
export { runValidation } from "./runner.js";
export type { Category } from "./scenario.js";
