/** The WebAssembly side of WordCounts (word-scan.wat, built into word-scan-wasm.ts): one instance per table (reused once released), the module compiled once per process. */

import { WORD_SCAN_WASM } from './word-scan-wasm.ts';

/** An exported mutable i32 global of the module. */
export interface ScanGlobal {
  value: number;
}

/** What word-scan.wat exports (its header comment says what each global holds). */
export interface WordScan {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  /** Counts the ASCII words of memory[from, end) until `stop` says why not; returns where to go on. */
  scan(from: number, end: number): number;
  /** The slot of the lower-cased UTF-8 word at memory[at, at + length), inserted with count 0 if new (the arena must have room). */
  add(at: number, length: number): number;
  slots: ScanGlobal;
  starts: ScanGlobal;
  hashes: ScanGlobal;
  mask: ScanGlobal;
  size: ScanGlobal;
  limit: ScanGlobal;
  arena: ScanGlobal;
  arenaUsed: ScanGlobal;
  arenaRoom: ScanGlobal;
  stop: ScanGlobal;
}

// The part of the WebAssembly global that this file uses (the project's lib has no WebAssembly types).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: WordScan };
};

/** scan's `stop`: why it returned. */
export const STOP_DONE = 0;
export const STOP_HIGH_BYTE = 1;
export const STOP_GROW_TABLE = 2;
export const STOP_GROW_ARENA = 3;
export const PAGE = 65536;

let compiled: object | undefined;
/**
 * Instances given back (recycleWordScan), zeroed, for the next tables: an instance with its memory
 * costs ~150 µs to make (a table in JS was ~50 µs), which invertedindex pays per file.
 */
const spare: WordScan[] = [];
const SPARE_COUNT = 2;
const SPARE_BYTES = 64 << 20;

/** An instance whose memory is all zeros and whose globals are 0, with nothing laid out in it. */
export function wordScan(): WordScan {
  const reused = spare.pop();
  if (reused !== undefined) return reused;
  compiled ??= new WebAssembly.Module(Buffer.from(WORD_SCAN_WASM, 'base64'));
  return new WebAssembly.Instance(compiled, {}).exports;
}

/** Gives back an instance that nothing uses any more, whose memory beyond `used` bytes is untouched: wordScan() hands it out again. */
export function recycleWordScan(wasm: WordScan, used: number): void {
  const buffer = wasm.memory.buffer;
  if (spare.length >= SPARE_COUNT || buffer.byteLength > SPARE_BYTES) return;
  new Uint8Array(buffer, 0, Math.min(used, buffer.byteLength)).fill(0);
  for (const global of [wasm.slots, wasm.starts, wasm.hashes, wasm.mask, wasm.size, wasm.limit, wasm.arena, wasm.arenaUsed, wasm.arenaRoom, wasm.stop]) global.value = 0;
  spare.push(wasm);
}
