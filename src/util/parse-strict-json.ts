/**
 * JSON.parse, refusing what JSON.parse lets through silently in untrusted input: a key twice in one
 * object (JSON.parse keeps the last, so two readers can see two documents) and `__proto__` members
 * (a prototype-poisoning vector once the value is merged or copied). Throws an Error naming the
 * member's path, e.g. `gate.rules[0]: the key "id" appears twice`.
 *
 * JSON.parse runs first, so the scan below only ever sees valid JSON; it is iterative (no recursion)
 * and tracks keys per open object.
 */
export function parseStrictJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  checkKeys(text);
  return value;
}

interface Frame {
  /** Keys seen so far; null for an array. */
  keys: Set<string> | null;
  /** Where this container is, for messages. */
  path: string;
  /** The key or index of the member being read now. */
  member: string | number;
}

function checkKeys(text: string): void {
  const stack: Frame[] = [];
  let expectKey = false;
  let index = 0;
  const childPath = (frame: Frame) =>
    typeof frame.member === 'number' ? `${frame.path}[${frame.member}]` : frame.path ? `${frame.path}.${frame.member}` : frame.member;
  while (index < text.length) {
    const char = text[index]!;
    if (char === '"') {
      const end = endOfString(text, index);
      const top = stack.at(-1);
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(index, end)) as string;
        const where = top.path || '(root)';
        if (key === '__proto__') throw new Error(`${where}: a "__proto__" member is not accepted`);
        if (top.keys.has(key)) throw new Error(`${where}: the key ${JSON.stringify(key)} appears twice`);
        top.keys.add(key);
        top.member = key;
        expectKey = false;
      }
      index = end;
      continue;
    }
    if (char === '{' || char === '[') {
      const parent = stack.at(-1);
      const path = parent ? childPath(parent) : '';
      stack.push({ keys: char === '{' ? new Set() : null, path, member: 0 });
      expectKey = char === '{';
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      const top = stack.at(-1)!;
      if (top.keys) expectKey = true;
      else top.member = (top.member as number) + 1;
    }
    index += 1;
  }
}

/** Index just past the closing quote of the string that starts at `start`. */
function endOfString(text: string, start: number): number {
  let index = start + 1;
  while (text[index] !== '"') index += text[index] === '\\' ? 2 : 1;
  return index + 1;
}
