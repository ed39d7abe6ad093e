// A build context as a tar stream: exactly the files berth chose (it applied .dockerignore
// already), nothing re-filtered. A small ustar writer, with PAX records for long names, instead of
// a dependency: a build context needs regular files, symlinks and directories, owned by root as
// the docker CLI sends them, and nothing else of tar.
import { createReadStream, lstatSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";

const BLOCK = 512;
const MAX_OCTAL_11 = 0o77777777777;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(fields: {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  type: "0" | "2" | "5" | "x";
  linkname?: string;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  const name = Buffer.from(fields.name);
  let prefix = Buffer.alloc(0);
  let base = name;
  if (name.length > 100) {
    // ustar splits a long path at a slash: up to 155 bytes of prefix, up to 100 of name.
    const text = fields.name;
    for (let i = text.indexOf("/"); i >= 0; i = text.indexOf("/", i + 1)) {
      const p = Buffer.from(text.slice(0, i));
      const n = Buffer.from(text.slice(i + 1));
      if (p.length <= 155 && n.length <= 100 && n.length > 0) {
        prefix = p;
        base = n;
        break;
      }
    }
  }
  base.subarray(0, 100).copy(block, 0);
  block.write(octal(fields.mode & 0o7777, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  block.write(octal(Math.min(fields.size, MAX_OCTAL_11), 12), 124, "ascii");
  block.write(octal(Math.max(0, Math.floor(fields.mtime)), 12), 136, "ascii");
  block.write(fields.type, 156, "ascii");
  if (fields.linkname) Buffer.from(fields.linkname).subarray(0, 100).copy(block, 157);
  block.write("ustar\0", 257, "ascii");
  block.write("00", 263, "ascii");
  block.write("root", 265, "ascii");
  block.write("root", 297, "ascii");
  prefix.copy(block, 345);
  block.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return block;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** A PAX extended header carrying what ustar cannot hold (long paths and link targets, big sizes). */
function paxRecords(records: Record<string, string>, mtime: number): Buffer[] {
  let body = "";
  for (const [key, value] of Object.entries(records)) {
    // Each record starts with its own length in decimal, which counts its own digits.
    const content = ` ${key}=${value}\n`;
    const bytes = Buffer.byteLength(content);
    let length = bytes + String(bytes).length;
    length = bytes + String(length).length;
    body += `${length}${content}`;
  }
  const data = Buffer.from(body);
  return [
    header({ name: "PaxHeader", mode: 0o644, size: data.length, mtime, type: "x" }),
    data,
    padding(data.length),
  ];
}

function fitsUstar(name: string): boolean {
  if (Buffer.byteLength(name) <= 100) return true;
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    if (
      Buffer.byteLength(name.slice(0, i)) <= 155 &&
      Buffer.byteLength(name.slice(i + 1)) <= 100 &&
      i < name.length - 1
    )
      return true;
  }
  return false;
}

/** A file that exists only in the stream (an inline Dockerfile). */
export interface TarExtra {
  name: string;
  content: Buffer;
}

async function* entries(dir: string, files: string[], extras: TarExtra[]): AsyncGenerator<Buffer> {
  for (const file of files) {
    const name = file.split("\\").join("/");
    const full = join(dir, file);
    const stats: Stats = lstatSync(full);
    const mtime = stats.mtimeMs / 1000;
    const pax: Record<string, string> = {};
    let type: "0" | "2" | "5";
    let linkname: string | undefined;
    let size = 0;
    if (stats.isSymbolicLink()) {
      type = "2";
      linkname = readlinkSync(full);
      if (Buffer.byteLength(linkname) > 100) pax.linkpath = linkname;
    } else if (stats.isDirectory()) {
      type = "5";
    } else if (stats.isFile()) {
      type = "0";
      size = stats.size;
      if (size > MAX_OCTAL_11) pax.size = String(size);
    } else continue; // sockets, fifos and devices have no place in a build context
    const entryName = type === "5" ? `${name.replace(/\/+$/, "")}/` : name;
    if (!fitsUstar(entryName)) pax.path = entryName;
    if (Object.keys(pax).length > 0) yield* paxRecords(pax, mtime);
    yield header({ name: entryName, mode: stats.mode, size, mtime, type, linkname });
    if (type !== "0") continue;
    // The header promised `size` bytes: a file that changed while read is cut or padded to it.
    let sent = 0;
    for await (const chunk of createReadStream(full)) {
      const bytes = chunk as Buffer;
      const take = bytes.subarray(0, Math.max(0, size - sent));
      sent += take.length;
      if (take.length > 0) yield take;
    }
    if (sent < size) yield Buffer.alloc(size - sent);
    yield padding(size);
  }
  for (const extra of extras) {
    yield header({ name: extra.name, mode: 0o644, size: extra.content.length, mtime: 0, type: "0" });
    yield extra.content;
    yield padding(extra.content.length);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** A tar stream of `files` (paths relative to `dir`), in the order given, then `extras`. */
export function tarFiles(dir: string, files: string[], extras: TarExtra[] = []): Readable {
  return Readable.from(entries(dir, files, extras), { objectMode: false });
}
