import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** An import between two top-level folders of src/: `from` imports `to` in `file`. */
export interface FolderImport {
  from: string;
  to: string;
  file: string;
}

const IMPORT = /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** The top-level folder of a path inside src/, or undefined for a file directly in src/. */
function folderOf(srcDir: string, file: string): string | undefined {
  const parts = path.relative(srcDir, file).split(path.sep);
  return parts.length > 1 ? parts[0] : undefined;
}

/** Every relative import in src/ that crosses from one top-level folder into another. */
export async function folderImports(srcDir: string): Promise<FolderImport[]> {
  const found: FolderImport[] = [];
  const files = (await readdir(srcDir, { recursive: true })).filter((file) => file.endsWith('.ts')).map((file) => path.join(srcDir, file));
  for (const file of files) {
    const from = folderOf(srcDir, file);
    if (!from) continue;
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = path.resolve(path.dirname(file), match[1] ?? match[2]!);
      const to = folderOf(srcDir, target);
      if (to && to !== from) found.push({ from, to, file: path.relative(srcDir, file) });
    }
  }
  return found;
}

/** Groups of folders that import each other, directly or round a longer loop (Tarjan's SCCs larger than one). */
export function folderCycles(imports: readonly FolderImport[]): string[][] {
  const edges = new Map<string, Set<string>>();
  for (const { from, to } of imports) {
    if (!edges.has(from)) edges.set(from, new Set());
    if (!edges.has(to)) edges.set(to, new Set());
    edges.get(from)!.add(to);
  }
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of edges.get(node)!) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}
