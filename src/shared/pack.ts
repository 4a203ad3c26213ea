/**
 * The container for compiled data bundled into the Worker (build/geo.bin,
 * build/lists.bin): a JSON header with metadata and named binary sections.
 *
 *   "RGP1" | u32 LE header length | header JSON (UTF-8) | sections, each 4-byte aligned
 *
 * Written by the build in Node, read in the Worker from a Data module (ArrayBuffer).
 */

const MAGIC = "RGP1";

/** A decoded container. */
export interface Pack<M> {
  readonly meta: M;
  /** A named section's bytes, or an empty array when absent. */
  section(name: string): Uint8Array;
}

interface Header<M> {
  readonly meta: M;
  readonly sections: Record<string, readonly [number, number]>;
}

const align = (n: number) => (n + 3) & ~3;

/** Build a container. */
export function writePack<M>(meta: M, sections: Record<string, Uint8Array>): Uint8Array {
  const offsets: Record<string, [number, number]> = {};
  let offset = 0;
  for (const [name, bytes] of Object.entries(sections)) {
    offsets[name] = [offset, bytes.byteLength];
    offset = align(offset + bytes.byteLength);
  }
  const header = new TextEncoder().encode(JSON.stringify({ meta, sections: offsets } satisfies Header<M>));
  const start = align(8 + header.byteLength);
  const out = new Uint8Array(start + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(4, header.byteLength, true);
  out.set(header, 8);
  for (const [name, bytes] of Object.entries(sections)) {
    const at = offsets[name]?.[0] ?? 0;
    out.set(bytes, start + at);
  }
  return out;
}

/** Read a container; throws on a corrupt one (a build defect, caught by tests). */
export function readPack<M>(data: ArrayBuffer | Uint8Array): Pack<M> {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.byteLength < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) {
    throw new Error("not a riskgate data pack");
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Header<M>;
  const start = align(8 + length);
  return {
    meta: header.meta,
    section(name) {
      const range = header.sections[name];
      if (range === undefined) return new Uint8Array(0);
      return bytes.subarray(start + range[0], start + range[0] + range[1]);
    },
  };
}
