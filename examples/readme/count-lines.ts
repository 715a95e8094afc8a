// count-lines.ts: a byte-level map that counts lines without decoding them
import { defineJob, type MapContext } from 'gmr';

export default defineJob({
  description: 'lines per input, counted as bytes (see the lines counter)',
  mapBytes(bytes: Buffer, start: number, end: number, ctx: MapContext<string, number>) {
    let lines = 0;
    for (let i = bytes.indexOf(10, start); i !== -1 && i < end; i = bytes.indexOf(10, i + 1)) lines++;
    ctx.count('lines', lines);
  },
});
