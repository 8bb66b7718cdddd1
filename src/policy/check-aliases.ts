import { isAlias, isCollection, isPair, isScalar, visit, type Document, type Node } from 'yaml';
import { PolicyLimit } from './policy-limits.js';

export interface AliasProblem {
  offset: number;
  message: string;
}

/**
 * Checks every alias (`*name`) before the document is turned into data: it must name an anchor set
 * before it and outside itself, and all aliases together may add at most PolicyLimit.maxAliasNodes
 * nodes when expanded. The YAML library throws a bare ReferenceError for each of these while
 * converting, without a position; here each gets the position of the alias that caused it.
 */
export function checkAliases(document: Document): AliasProblem[] {
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  const inProgress = new Set<Node>();
  const problems: AliasProblem[] = [];
  let expanded = 0;
  let overLimit = false;

  // Expanded size of a node (aliases replaced by what they name). Recursion is bounded by the
  // nesting limit scanYamlTokens enforced first; a cycle (an alias inside its own anchor) is -1.
  const sizeOf = (node: unknown): number => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      return target === undefined ? 1 : sizeOf(target);
    }
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (inProgress.has(node)) return -1;
    inProgress.add(node);
    let size = 1;
    for (const item of node.items) {
      const parts = isPair(item) ? [item.key, item.value] : [item];
      for (const part of parts) {
        const partSize = part === null || part === undefined ? 0 : sizeOf(part);
        if (partSize < 0 || size < 0) size = -1;
        else size = Math.min(Number.MAX_SAFE_INTEGER, size + partSize);
      }
    }
    inProgress.delete(node);
    sizes.set(node, size);
    return size;
  };

  visit(document, {
    Node(_key, node) {
      if (isAlias(node)) {
        const offset = node.range?.[0] ?? 0;
        const target = anchors.get(node.source);
        if (!target) {
          problems.push({ offset, message: `alias *${node.source} names no anchor set before it (write &${node.source} on an earlier value)` });
          return;
        }
        const size = isInside(node, target) ? -1 : sizeOf(target);
        if (size < 0) {
          problems.push({ offset, message: `alias *${node.source} is inside the value it names, which would never end` });
          return;
        }
        expanded += size;
        if (!overLimit && expanded > PolicyLimit.maxAliasNodes) {
          overLimit = true;
          problems.push({
            offset,
            message: `aliases expand to more than ${PolicyLimit.maxAliasNodes} nodes by here (an alias bomb?); write the values out or use fewer aliases`,
          });
        }
      } else if ((isCollection(node) || isScalar(node)) && node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return problems;
}

/** Whether `alias` is written inside `target` (by source range: both come from the same text). */
function isInside(alias: Node, target: Node): boolean {
  const [start, , end] = target.range ?? [0, 0, 0];
  const at = alias.range?.[0] ?? -1;
  return isCollection(target) && at >= start && at < end;
}
