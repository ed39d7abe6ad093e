// Docker's stream framing for containers without a TTY: each frame is an 8-byte header (stream
// 1 = stdout, 2 = stderr, then a big-endian 32-bit length) followed by its payload.
import { Transform, type TransformCallback, type Writable } from "node:stream";

/** Splits a whole multiplexed answer into stdout and stderr text. */
export function demuxDockerStream(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  const framed =
    buffer.length >= 8 && buffer[0]! <= 2 && buffer[1] === 0 && buffer[2] === 0 && buffer[3] === 0;
  if (!framed) return { stdout: buffer.toString("utf8"), stderr: "" };
  while (offset + 8 <= buffer.length) {
    const kind = buffer[offset]!;
    const size = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + size);
    (kind === 2 ? err : out).push(payload);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/**
 * Decodes the framing as it arrives: payloads come out of the transform, stderr's into `stderr`
 * instead when one is given. Frames may be split across chunks in any place.
 */
export class FrameDecoder extends Transform {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly stderr?: Writable) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      if (this.pending[0] === 2 && this.stderr) this.stderr.write(payload);
      else this.push(payload);
      this.pending = this.pending.subarray(8 + size);
    }
    callback();
  }
}
