/**
 * GitHub's size limits, in one place. Everything we send through the checks API, the job summary or a
 * comment is cut here, in priority order, with a pointer to the evidence artifact that holds the rest.
 */
export const PlatformLimit = {
  /** Check run output.summary and output.text, in bytes (UTF-8). */
  checkRunOutputBytes: 65_535,
  /** Annotations accepted per create/update request; later updates append. */
  annotationsPerRequest: 50,
  /** Annotation title, in characters. */
  annotationTitleChars: 255,
  /** Annotation message and raw_details, in bytes. */
  annotationMessageBytes: 64 * 1024,
  /** Job summary per step, in bytes. */
  jobSummaryBytes: 1024 * 1024,
  /** Issue / pull request comment body, in characters. */
  commentChars: 65_536,
} as const;

const encoder = new TextEncoder();

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The longest prefix of `text` that fits in `maxBytes` without splitting a character (a lone high
 * surrogate or a partial UTF-8 sequence would be rejected or shown as U+FFFD).
 */
export function truncateBytes(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (byteLength(text) <= maxBytes) return text;
  const bytes = encoder.encode(text);
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut lands on a character boundary.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return Buffer.from(bytes.subarray(0, end)).toString('utf8');
}

/** Truncates to `maxChars` code units, not splitting a surrogate pair; adds an ellipsis when cut. */
export function truncateChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = Math.max(0, maxChars - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

export interface Section {
  priority: number;
  markdown: string;
}

export interface FitResult {
  text: string;
  /** How many sections were cut or shortened. */
  omitted: number;
}

/**
 * Joins sections in priority order (lowest number first) into at most `maxBytes`. A section that does
 * not fit is shortened when it is the first to overflow, and every later one is dropped; then
 * `pointer` (e.g. "full evidence: artifact X") is appended, so a reader always knows where the rest is.
 */
export function fitSections(sections: readonly Section[], maxBytes: number, pointer: string): FitResult {
  const ordered = [...sections].sort((a, b) => a.priority - b.priority);
  const separator = '\n\n';
  const all = ordered.map((section) => section.markdown).join(separator);
  if (byteLength(all) <= maxBytes) return { text: all, omitted: 0 };

  const note = `${separator}> ✂️ Cut to fit GitHub's limit of ${maxBytes} bytes. ${pointer}`;
  const budget = maxBytes - byteLength(note);
  let text = '';
  let omitted = 0;
  for (const section of ordered) {
    const candidate = text === '' ? section.markdown : text + separator + section.markdown;
    if (omitted === 0 && byteLength(candidate) <= budget) {
      text = candidate;
      continue;
    }
    if (omitted === 0) {
      // Keep what fits of the first overflowing section, cut at a line end so markdown stays readable.
      const room = budget - byteLength(text === '' ? '' : text + separator);
      const partial = truncateBytes(section.markdown, room);
      const lineEnd = partial.lastIndexOf('\n');
      const kept = lineEnd > 0 ? partial.slice(0, lineEnd) : partial;
      if (kept.trim() !== '') text = text === '' ? kept : text + separator + kept;
    }
    omitted += 1;
  }
  return { text: truncateBytes(text, budget) + note, omitted };
}
