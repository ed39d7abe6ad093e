// Reads one Compose file into a YAML document that keeps positions, its plain value, and the
// `!reset` / `!override` tags Compose uses in override files.
import { type Document, isMap, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { SourceLocation } from "../../model/compose.js";
import { ComposeError } from "./errors.js";
import { type ComposeReader, fsReader } from "./inputs.js";
import { locateInDocument } from "./locate.js";
import { formatPath, type YamlPath } from "./path.js";

type MergeTag = "!reset" | "!override";

export interface ComposeSource {
  /** Absolute path. */
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The file's content as plain data (aliases and `<<` merges resolved). */
  value: unknown;
  /** Nodes tagged `!reset` or `!override`, by path. */
  tags: { path: YamlPath; tag: MergeTag }[];
  /** Non-fatal parser findings. */
  warnings: string[];
}

/** The model location of a path in this file. */
export function sourceLocation(source: ComposeSource, path: YamlPath): SourceLocation {
  const position = locateInDocument(source.doc, source.lines, path);
  return { file: source.file, line: position?.line, column: position?.column, path: formatPath(path) };
}

function collectTags(node: unknown, path: YamlPath, out: ComposeSource["tags"]): void {
  const tag = (node as Node | null)?.tag;
  if (tag === "!reset" || tag === "!override") out.push({ path, tag });
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = (pair.key as { value?: unknown } | null)?.value ?? pair.key;
      collectTags(pair.value, [...path, String(key)], out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      collectTags(item, [...path, index], out);
    });
  }
}

/** The parser's message without the position and source excerpt it appends. */
function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/** Parses Compose YAML text; invalid YAML is a ComposeError at the parser's line and column. */
function parseComposeText(file: string, text: string): ComposeSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const problem =
      error.code === "MULTIPLE_DOCS"
        ? "a Compose file holds one YAML document, this one has several (`---`)"
        : `invalid YAML: ${firstLine(error.message)}`;
    throw new ComposeError(problem, { file, line: at?.line, column: at?.col, cause: error });
  }
  const tags: ComposeSource["tags"] = [];
  collectTags(doc.contents, [], tags);
  const warnings = doc.warnings
    .filter((w) => !(w.code === "TAG_RESOLVE_FAILED" && /!(reset|override)\b/.test(w.message)))
    .map((w) => {
      const at = w.linePos?.[0];
      return `${file}${at ? `:${at.line}:${at.col}` : ""}: ${firstLine(w.message)}`;
    });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 10_000 });
  } catch (cause) {
    throw new ComposeError(`invalid YAML: ${(cause as Error).message}`, { file, cause });
  }
  return { file, doc, lines, value, tags, warnings };
}

/** Reads and parses a Compose file; a missing file is a ComposeError naming it. */
export async function readComposeSource(
  file: string,
  reader: ComposeReader = fsReader,
): Promise<ComposeSource> {
  let text: string;
  try {
    text = await reader.readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ComposeError(
      code === "ENOENT" ? "compose file not found" : `cannot read compose file (${code})`,
      {
        file,
        hint:
          code === "ENOENT"
            ? "Check the -f path; relative paths are taken from the working directory."
            : undefined,
        cause,
      },
    );
  }
  return parseComposeText(file, text);
}
