// The tar archive that carries secrets and configs into a created container (the Engine API's
// archive upload), for the ones that are not a plain bind mount: environment- and content-sourced
// ones, and files with their own owner or mode. Missing parent directories are created by the
// daemon. Contents are read here and never logged.
import { readFile } from "node:fs/promises";
import type { CopiedFile } from "./container-config.js";

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, Math.min(Buffer.byteLength(value), length), "utf8");
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

/** Splits a path into ustar's name (100 bytes) and prefix (155 bytes). */
function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  const cut = path.lastIndexOf("/", 155);
  if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) {
    throw new Error(`path too long for an archive: ${path}`);
  }
  return { name: path.slice(cut + 1), prefix: path.slice(0, cut) };
}

/** One regular-file header (ustar). */
export function tarHeader(file: {
  path: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
}): Buffer {
  const header = Buffer.alloc(BLOCK, 0);
  const { name, prefix } = splitName(file.path);
  field(header, 0, 100, name);
  field(header, 100, 8, octal(file.mode, 8));
  field(header, 108, 8, octal(file.uid, 8));
  field(header, 116, 8, octal(file.gid, 8));
  field(header, 124, 12, octal(file.size, 12));
  field(header, 136, 12, octal(Math.floor(Date.now() / 1000), 12));
  header.fill(" ", 148, 156);
  header[156] = "0".charCodeAt(0);
  field(header, 257, 6, "ustar\0");
  field(header, 263, 2, "00");
  field(header, 345, 155, prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  field(header, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

/** A tar archive of `files` (paths relative to `/`), with the end-of-archive blocks. */
export function tarArchive(
  files: { path: string; content: Buffer; mode: number; uid: number; gid: number }[],
): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(tarHeader({ ...file, size: file.content.length }), file.content);
    const pad = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

async function contentOf(file: CopiedFile): Promise<Buffer> {
  const source = file.source;
  if ("file" in source) return readFile(source.file);
  if ("environment" in source) return Buffer.from(source.value, "utf8");
  return Buffer.from(source.content, "utf8");
}

/** The archive to upload at `/` for a container's copied secrets and configs. */
export async function archiveOf(files: CopiedFile[]): Promise<Buffer> {
  return tarArchive(
    await Promise.all(
      files.map(async (file) => ({
        path: file.target.replace(/^\/+/, ""),
        content: await contentOf(file),
        mode: file.mode,
        uid: Number(file.uid ?? 0),
        gid: Number(file.gid ?? 0),
      })),
    ),
  );
}
