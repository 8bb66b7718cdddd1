/**
 * Members of `raw` that a zod parse dropped on the way to `parsed` (z.object strips unknown keys),
 * as dotted paths. A verifier that hashes the parsed value would otherwise accept, and seal over,
 * whatever extra a forger put in the file. Iterative: the input is untrusted and may nest deeply.
 */
export function findUnknownMembers(raw: unknown, parsed: unknown): string[] {
  const unknown: string[] = [];
  const pending: { raw: unknown; parsed: unknown; path: string }[] = [{ raw, parsed, path: '' }];
  while (pending.length > 0) {
    const { raw: rawValue, parsed: parsedValue, path } = pending.pop()!;
    if (Array.isArray(rawValue) && Array.isArray(parsedValue)) {
      rawValue.forEach((item, index) => {
        pending.push({ raw: item, parsed: parsedValue[index], path: `${path}[${index}]` });
      });
    } else if (isPlainObject(rawValue) && isPlainObject(parsedValue)) {
      for (const key of Object.keys(rawValue)) {
        const at = path ? `${path}.${key}` : key;
        if (!Object.hasOwn(parsedValue, key)) unknown.push(at);
        else pending.push({ raw: rawValue[key], parsed: parsedValue[key], path: at });
      }
    }
  }
  return unknown.sort();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
