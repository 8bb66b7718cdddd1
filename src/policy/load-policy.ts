import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type * as z from 'zod';
import { QfError } from '../errors.js';
import type { LoadedPolicy } from './loaded-policy.js';
import { sha256Hex } from '../util/canonical-json.js';
import { didYouMean } from './did-you-mean.js';
import { formatDataPath, PolicyError, type PolicyProblem } from './policy-error.js';
import { PolicySchema } from './schema.js';
import { knownKeysAt } from './schema-keys.js';
import { validatePolicySemantics } from './validate-policy.js';
import { LineCounter, YamlPositions } from './yaml-positions.js';

export interface PolicySource {
  path: string;
  sourceRef: string | null;
}

/**
 * Parses and validates a policy's text: YAML syntax, then the schema, then semantic checks
 * (known tools and metrics, valid globs). Throws a PolicyError listing every problem with its
 * file:line:column, the offending value and what was expected.
 */
export function parsePolicy(text: string, source: PolicySource): LoadedPolicy {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problemAt = (line: number, column: number, path: string, message: string): PolicyProblem => ({ file: source.path, line, column, path, message });

  if (document.errors.length > 0) {
    throw new PolicyError(
      document.errors.map((error) => {
        // With prettyErrors off, `linePos` is never filled in: locate the error from its offset.
        const position = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
        const [line, column] = [position.line, position.col];
        return problemAt(line, column, '', `not valid YAML: ${error.message.split('\n')[0]}`);
      }),
    );
  }

  const positions = new YamlPositions(document, lines);
  const data: unknown = document.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new PolicyError([problemAt(1, 1, '', 'expected a mapping with at least `version: 1`, found ' + (data === null || data === undefined ? 'an empty document' : 'a ' + typeof data))]);
  }

  const parsed = PolicySchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => describeIssue(issue, positions, problemAt));
    throw new PolicyError(problems.sort((a, b) => a.line - b.line || a.column - b.column));
  }

  const semanticProblems = validatePolicySemantics(parsed.data).map(({ path, message }) => {
    const { line, column } = positions.valueAt(path);
    return problemAt(line, column, formatDataPath(path), message);
  });
  if (semanticProblems.length > 0) throw new PolicyError(semanticProblems);

  return { policy: parsed.data, path: source.path, sourceRef: source.sourceRef, sha256: sha256Hex(text) };
}

function describeIssue(
  issue: z.core.$ZodIssue,
  positions: YamlPositions,
  problemAt: (line: number, column: number, path: string, message: string) => PolicyProblem,
): PolicyProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(PolicySchema, issue.path);
    return issue.keys.map((key) => {
      const { line, column } = positions.keyAt(issue.path, key);
      const suggestion = didYouMean(key, known);
      const hint = suggestion ? `; did you mean "${suggestion}"?` : known.length ? `; expected one of: ${known.join(', ')}` : '';
      return problemAt(line, column, formatDataPath([...issue.path, key]), `unknown key "${key}"${hint}`);
    });
  }
  const { line, column } = positions.valueAt(issue.path);
  const got = positions.rawValueAt(issue.path);
  let message = issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
  if (got !== undefined) message = message.replace(/, received \w+$/, '');
  const gotText = got === undefined ? (issue.code === 'invalid_type' ? ' (missing)' : '') : `, got ${JSON.stringify(got)}`;
  const suggestion = issue.code === 'invalid_value' && typeof got === 'string' ? didYouMean(got, issue.values.map(String)) : undefined;
  const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
  return [problemAt(line, column, formatDataPath(issue.path), `${message}${gotText}${hint}`)];
}

/** Like parsePolicy, but returns the problems instead of throwing (for a PR's proposed policy). */
export function checkPolicyText(text: string, source: PolicySource): { ok: true; policy: LoadedPolicy } | { ok: false; message: string; problems: PolicyProblem[] } {
  try {
    return { ok: true, policy: parsePolicy(text, source) };
  } catch (error) {
    if (error instanceof PolicyError) return { ok: false, message: error.message, problems: error.problems };
    throw error;
  }
}

/** Reads a policy file from disk. */
export async function loadPolicyFile(file: string, sourceRef: string | null = null): Promise<LoadedPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new QfError('BAD_INPUT', `Cannot read policy file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}. Expected a YAML policy (see policies/default.yaml).`, { cause: error });
  }
  return parsePolicy(text, { path: file, sourceRef });
}
