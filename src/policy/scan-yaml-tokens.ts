import { CST, Lexer, Parser } from 'yaml';
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
  // Only flow collections can nest deeply in a small file (block nesting costs indentation, so
  // 256 KiB hold ~700 levels at most), and the lexer alone sees them, several times faster than
  // the parser, which takes seconds over 100,000 nested brackets.
  scan.tooDeepAt = tooDeepFlowAt(text);
  if (scan.tooDeepAt !== null) {
    onNewLine?.(0);
    for (let index = text.indexOf('\n'); index >= 0; index = text.indexOf('\n', index + 1)) onNewLine?.(index + 1);
    return scan;
  }
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
      pending.push({ token: 'key' in item ? (item.key ?? undefined) : undefined, depth: level });
      pending.push({ token: item.value, depth: level });
    }
  }
  scan.unclosed.sort((a, b) => a.offset - b.offset);
  return scan;
}

/** Offset of the first `[` or `{` nested deeper than PolicyLimit.maxDepth, from the lexer's tokens. */
function tooDeepFlowAt(text: string): number | null {
  let offset = 0;
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      depth += 1;
      if (depth > PolicyLimit.maxDepth) return offset;
    } else if (token === ']' || token === '}') depth = Math.max(0, depth - 1);
    // The lexer adds one-character control tokens (document start, flow end, scalar) that are not in the text.
    const type = CST.tokenType(token);
    if (type !== 'doc-mode' && type !== 'flow-error-end' && type !== 'scalar') offset += token.length;
  }
  return null;
}
