import { readFile } from 'node:fs/promises';
import { parseDocument, type YAMLError } from 'yaml';
import type * as z from 'zod';
import { errorMessage, QfError } from '../errors.js';
import type { LoadedPolicy } from './loaded-policy.js';
import { sha256Hex } from '../util/canonical-json.js';
import { checkAliases } from './check-aliases.js';
import { decodePolicyBytes } from './decode-policy-bytes.js';
import { didYouMean } from './did-you-mean.js';
import { formatDataPath, PolicyError, type PolicyProblem } from './policy-error.js';
import { PolicyLimit } from './policy-limits.js';
import { salvagePolicy } from './salvage-policy.js';
import { scanYamlTokens, type YamlTokenScan } from './scan-yaml-tokens.js';
import { PolicySchema } from './schema.js';
import { knownKeysAt } from './schema-keys.js';
import { validatePolicySemantics } from './validate-policy.js';
import { LineCounter, YamlPositions } from './yaml-positions.js';

export interface PolicySource {
  path: string;
  sourceRef: string | null;
}

/**
 * Parses and validates a policy file: its bytes (size, NUL, UTF-8), its YAML (syntax, nesting,
 * aliases), the schema and the semantic checks (known tools and metrics, valid globs) in one pass.
 * Throws a PolicyError listing every problem with its file:line:column, the offending value and
 * what was expected. `policy.sha256` is the digest of the bytes as given, not of a decoded text.
 */
export function parsePolicy(input: Uint8Array | string, source: PolicySource): LoadedPolicy {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const text = decodePolicyBytes(bytes, source.path);
  const problemAt = (line: number, column: number, path: string, message: string): PolicyProblem => ({ file: source.path, line, column, path, message });
  const lines = new LineCounter();
  const at = (offset: number) => lines.linePos(offset);

  // Before any node is built: the composer recurses once per nesting level.
  const tokens = scanYamlTokens(text, lines.addNewLine);
  if (tokens.tooDeepAt !== null) {
    const { line, col } = at(tokens.tooDeepAt);
    throw new PolicyError([problemAt(line, col, '', `nested more than ${PolicyLimit.maxDepth} levels deep; a policy needs a handful`)]);
  }
  // Positions come from `lines`, which the token scan filled in.
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) throw new PolicyError(yamlProblems(document.errors, tokens, at, problemAt));

  const aliasProblems = checkAliases(document);
  if (aliasProblems.length > 0) {
    throw new PolicyError(aliasProblems.map(({ offset, message }) => problemAt(at(offset).line, at(offset).col, '', message)));
  }

  const positions = new YamlPositions(document, lines);
  // checkAliases bounded what aliases expand to; the library's own alias count limit is then moot.
  const data: unknown = document.toJS({ maxAliasCount: -1 });
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new PolicyError([
      problemAt(
        1,
        1,
        '',
        `expected a mapping with at least \`version: 1\`, found ${data === null || data === undefined ? 'an empty document' : `a ${typeof data}`}`,
      ),
    ]);
  }

  const parsed = PolicySchema.safeParse(data);
  const schemaProblems = parsed.success ? [] : parsed.error.issues.flatMap((issue) => describeIssue(issue, positions, problemAt));
  // Semantic checks run on whatever passed the schema, so that one pass reports every problem.
  const parts = parsed.success ? parsed.data : salvagePolicy(data as Record<string, unknown>);
  const semanticProblems = validatePolicySemantics(parts).map(({ path, message, key }) => {
    const { line, column } = key === undefined ? positions.valueAt(path) : positions.keyAt(path.slice(0, -1), key);
    return problemAt(line, column, formatDataPath(path), message);
  });
  const problems = [...schemaProblems, ...semanticProblems];
  if (!parsed.success || problems.length > 0) throw new PolicyError(problems.sort((a, b) => a.line - b.line || a.column - b.column));

  return { policy: parsed.data, path: source.path, sourceRef: source.sourceRef, sha256: sha256Hex(bytes) };
}

/**
 * The YAML library's errors as problems. An unclosed `{` or `[` is reported where the library gave
 * up (often lines later); it is located at the bracket that was left open instead.
 */
function yamlProblems(
  errors: readonly YAMLError[],
  tokens: YamlTokenScan,
  at: (offset: number) => { line: number; col: number },
  problemAt: (line: number, column: number, path: string, message: string) => PolicyProblem,
): PolicyProblem[] {
  return errors.map((error) => {
    const message = error.message.split('\n')[0]!;
    const gaveUp = at(error.pos[0]);
    const opener = /^Flow (map|sequence)/.test(message) ? tokens.unclosed.filter((flow) => flow.offset < error.pos[0]).at(-1) : undefined;
    if (opener) {
      const open = at(opener.offset);
      return problemAt(
        open.line,
        open.col,
        '',
        `not valid YAML: this ${opener.open} is never closed with ${opener.close} (${message}; the parser gave up at ${gaveUp.line}:${gaveUp.col})`,
      );
    }
    return problemAt(gaveUp.line, gaveUp.col, '', `not valid YAML: ${message}`);
  });
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

/**
 * Like parsePolicy, but returns the problems instead of throwing (for a PR's proposed policy, which
 * is untrusted input: whatever it holds, the answer is a list of problems, never an exception).
 */
export function checkPolicyText(
  input: Uint8Array | string,
  source: PolicySource,
): { ok: true; policy: LoadedPolicy } | { ok: false; message: string; problems: PolicyProblem[] } {
  try {
    return { ok: true, policy: parsePolicy(input, source) };
  } catch (caught) {
    const error =
      caught instanceof PolicyError
        ? caught
        : new PolicyError([
            { file: source.path, line: 1, column: 1, path: '', message: `qf could not read this policy (${errorMessage(caught)}); this is a bug in qf` },
          ]);
    return { ok: false, message: error.message, problems: error.problems };
  }
}

/** Reads a policy file from disk. */
export async function loadPolicyFile(file: string, sourceRef: string | null = null): Promise<LoadedPolicy> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new QfError(
      'BAD_INPUT',
      `Cannot read policy file ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}. Expected a YAML policy (see policies/default.yaml).`,
      { cause: error },
    );
  }
  return parsePolicy(bytes, { path: file, sourceRef });
}
