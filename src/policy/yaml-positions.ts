import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';

export interface SourcePosition {
  line: number;
  column: number;
}

/**
 * Maps a data path (as zod reports it) back to where it is written in the YAML source. A path that
 * does not exist (a missing key) resolves to its nearest existing parent.
 */
export class YamlPositions {
  constructor(
    private readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  private at(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** Position of the value at `path`, or of the closest ancestor that exists. */
  valueAt(path: readonly PropertyKey[]): SourcePosition {
    for (let length = path.length; length >= 0; length--) {
      const node = this.document.getIn(path.slice(0, length) as unknown[], true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return this.at(node.range[0]);
    }
    return { line: 1, column: 1 };
  }

  /** Position of the key `key` inside the mapping at `path` (for unknown keys). */
  keyAt(path: readonly PropertyKey[], key: string): SourcePosition {
    const parent = path.length === 0 ? this.document.contents : this.document.getIn(path as unknown[], true);
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isPair(item) && isScalar(item.key) && item.key.value === key && item.key.range) return this.at(item.key.range[0]);
      }
    }
    return this.valueAt(path);
  }

  /** The source text of the scalar at `path`, for "got …" in messages. */
  rawValueAt(path: readonly PropertyKey[]): unknown {
    const node = this.document.getIn(path as unknown[], true);
    if (isScalar(node)) return node.value;
    if (isMap(node)) return '(a mapping)';
    if (isSeq(node)) return '(a list)';
    return undefined;
  }
}

export { LineCounter };
