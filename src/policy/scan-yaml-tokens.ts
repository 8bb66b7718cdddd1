import { Parser, type CST } from 'yaml';
import { PolicyLimit } from './policy-limits.js';

export interface YamlTokenScan {
  /** Offset of the first collection nested deeper than PolicyLimit.maxDepth, if any. */
  tooDeepAt: number | null;
  /** Flow collections (`{`, `[`) that never reach their closing bracket, by offset of the opener. */
  unclosed: { offset: number; open: string; close: string }[];
}

/**
 * Walks the YAML's concrete syntax tree without recursion, before any node is built: the parser's
 * composer recurses per nesting level (a 100,000-deep `[[[…` overflows its stack) and reports an
 * unclosed flow collection where it gave up, lines after the bracket that was left open.
 */
export function scanYamlTokens(text: string, onNewLine?: (offset: number) => void): YamlTokenScan {
  const scan: YamlTokenScan = { tooDeepAt: null, unclosed: [] };
  const pending: { token: CST.Token | undefined; depth: number }[] = [];
  for (const token of new Parser(onNewLine).parse(text)) pending.push({ token, depth: 0 });
  while (pending.length > 0) {
    const { token, depth } = pending.pop()!;
    if (!token) continue;
    if (token.type === 'document') {
      pending.push({ token: token.value, depth });
      continue;
    }
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    const level = depth + 1;
    if (level > PolicyLimit.maxDepth) {
      if (scan.tooDeepAt === null || token.offset < scan.tooDeepAt) scan.tooDeepAt = token.offset;
      continue;
    }
    if (token.type === 'flow-collection') {
      const close = token.start.source === '{' ? '}' : ']';
      if (!token.end.some((end) => end.source === close)) scan.unclosed.push({ offset: token.start.offset, open: token.start.source, close });
    }
    for (const item of token.items) {
      pending.push({ token: 'key' in item ? item.key ?? undefined : undefined, depth: level });
      pending.push({ token: item.value, depth: level });
    }
  }
  scan.unclosed.sort((a, b) => a.offset - b.offset);
  return scan;
}
