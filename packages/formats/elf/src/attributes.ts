/**
 * Build-attribute sections (`.riscv.attributes`, `.gnu.attributes`): format version 'A', then
 * vendor subsections (length, vendor name), each holding tagged sub-subsections (1 file, 2
 * section, 3 symbol) of attributes. Under the RISC-V psABI and the generic GNU rule an attribute
 * with an odd tag is a NUL-terminated string and one with an even tag a ULEB128 number (ARM's EABI
 * uses other rules and is not read here). Layout as binutils readelf.c process_attributes walks it.
 */
import type { SectionHeader } from './headers.js';
import type { ByteReader } from './reader.js';

export type AttributeValue = { tag: number; number: number } | { tag: number; text: string };

export interface AttributeSubsection {
  /** 1 File Attributes, 2 Section Attributes, 3 Symbol Attributes, else unknown. */
  tag: number;
  /** For tags 2 and 3: the section or symbol numbers listed before the attributes. */
  numbers: number[];
  attributes: AttributeValue[];
}

export interface AttributeVendor {
  vendor: string;
  subsections: AttributeSubsection[];
}

export interface AttributeSection {
  section: SectionHeader;
  /** The format-version byte ('A' = 0x41 is the only one defined). */
  version: number;
  vendors: AttributeVendor[];
}

function uleb(r: ByteReader, at: { p: number }, end: number): number {
  let v = 0;
  let scale = 1;
  while (at.p < end) {
    const b = r.bytes[at.p++]!;
    v += (b % 128) * scale;
    scale *= 128;
    if (b < 128) break;
  }
  return v;
}

/** Read one attribute section; walks stop at the first length that does not fit, as readelf's do. */
export function readAttributeSection(r: ByteReader, s: SectionHeader): AttributeSection {
  r.check(s.offset, s.size, `${s.name} contents`);
  const out: AttributeSection = { section: s, version: s.size > 0 ? r.bytes[s.offset]! : 0, vendors: [] };
  if (out.version !== 0x41) return out;
  const contentsEnd = s.offset + s.size;
  let p = s.offset + 1;
  let sectionLen = s.size - 1;
  while (sectionLen > 4) {
    let attrLen = r.u32(p, 'attribute subsection length');
    p += 4;
    if (attrLen > sectionLen) attrLen = sectionLen;
    else if (attrLen < 5) break;
    sectionLen -= attrLen;
    attrLen -= 4;
    let nameEnd = p;
    while (nameEnd < p + attrLen && r.bytes[nameEnd] !== 0) nameEnd++;
    const nameLen = nameEnd - p + 1;
    if (nameLen >= attrLen) break;
    const vendor: AttributeVendor = { vendor: new TextDecoder().decode(r.bytes.subarray(p, nameEnd)), subsections: [] };
    out.vendors.push(vendor);
    p += nameLen;
    attrLen -= nameLen;
    while (attrLen > 0 && p < contentsEnd) {
      if (attrLen < 6) {
        sectionLen = 0;
        break;
      }
      const tag = r.bytes[p++]!;
      let size = r.u32(p, 'attribute sub-subsection length');
      if (size > attrLen) size = attrLen;
      if (size < 6) {
        sectionLen = 0;
        break;
      }
      attrLen -= size;
      const end = p + size - 1;
      p += 4;
      const sub: AttributeSubsection = { tag, numbers: [], attributes: [] };
      vendor.subsections.push(sub);
      const at = { p };
      if (tag === 2 || tag === 3) {
        for (let n = uleb(r, at, end); n !== 0 && at.p < end; n = uleb(r, at, end)) sub.numbers.push(n);
      }
      while (at.p < end) {
        const t = uleb(r, at, end);
        if (t % 2 === 1) {
          let z = at.p;
          while (z < end - 1 && r.bytes[z] !== 0) z++;
          sub.attributes.push({ tag: t, text: new TextDecoder().decode(r.bytes.subarray(at.p, z)) });
          at.p = Math.min(end, z + 1);
        } else {
          sub.attributes.push({ tag: t, number: uleb(r, at, end) });
        }
      }
      p = end;
    }
  }
  return out;
}
