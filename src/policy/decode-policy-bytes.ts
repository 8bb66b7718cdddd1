import { isUtf8 } from 'node:buffer';
import { PolicyError, type PolicyProblem } from './policy-error.js';
import { PolicyLimit } from './policy-limits.js';

/**
 * The text of a policy file's raw bytes, or a PolicyError with a position: larger than
 * PolicyLimit.maxBytes, a NUL byte, or bytes that are not UTF-8. Replacing invalid bytes (what
 * `toString('utf8')` does) would make two different files one policy, matching neither's digest.
 */
export function decodePolicyBytes(bytes: Uint8Array, file: string): string {
  const problem = (offset: number, message: string): PolicyProblem => ({ file, ...positionOfByte(bytes, offset), path: '', message });
  if (bytes.length > PolicyLimit.maxBytes) {
    throw new PolicyError([
      problem(
        PolicyLimit.maxBytes,
        `the policy file is ${bytes.length} bytes, more than the ${PolicyLimit.maxBytes} (256 KiB) accepted; this is where the limit is passed`,
      ),
    ]);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new PolicyError([problem(nul, 'a NUL byte; a policy is UTF-8 text')]);
  if (!isUtf8(bytes)) {
    const bad = firstInvalidUtf8(bytes);
    throw new PolicyError([problem(bad, `byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at offset ${bad} is not valid UTF-8; a policy is UTF-8 text`)]);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

/** 1-based line and column (in characters) of a byte offset; the bytes before it on its line may be invalid. */
function positionOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset; index += 1) {
    if (bytes[index] === 0x0a) {
      line += 1;
      lineStart = index + 1;
    }
  }
  const before = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset));
  return { line, column: [...before].length + 1 };
}

/**
 * Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF). Only called once isUtf8 said there is one;
 * Node has no API that says where.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index += 1;
      continue;
    }
    const trailing = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : -1;
    if (trailing < 0 || index + trailing >= bytes.length) return index;
    const second = bytes[index + 1]!;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    if (second < low || second > high) return index;
    for (let next = 2; next <= trailing; next += 1) if ((bytes[index + next]! & 0xc0) !== 0x80) return index;
    index += trailing + 1;
  }
  return index;
}
