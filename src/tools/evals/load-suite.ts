import path from 'node:path';
import { parseDocument } from 'yaml';
import type * as z from 'zod';
import { QfError, errorMessage } from '../../errors.js';
import { didYouMean } from '../../policy/did-you-mean.js';
import { formatDataPath, formatProblem, type PolicyProblem } from '../../policy/policy-error.js';
import { knownKeysAt } from '../../policy/schema-keys.js';
import { LineCounter, YamlPositions } from '../../policy/yaml-positions.js';
import { sha256Hex } from '../../util/canonical-json.js';
import { readConfinedFile } from '../../util/open-confined-file.js';
import { parseStrictJson } from '../../util/parse-strict-json.js';
import { ASSERTION_TYPES, CaseSchema, SuiteSchema, type EvalCase, type Suite } from './suite-schema.js';

/** A suite file or a cases file is at most this big: thousands of cases, not a data dump. */
const MAX_SUITE_BYTES = 16 * 1024 * 1024;

/** A suite file read and checked, with the digest of every byte it was read from. */
export interface LoadedSuite {
  suite: Suite;
  /** Repository-relative path of the suite file. */
  file: string;
  /** sha256 over the suite file and its cases file: what a cached result of this suite is keyed by. */
  digest: string;
}

/** A suite file that cannot be used; the message lists every problem with file:line:column. */
export class SuiteError extends QfError {
  constructor(readonly problems: PolicyProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('BAD_INPUT', `Eval suite ${problems[0]?.file ?? ''} has ${count}:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'SuiteError';
  }
}

type Problem = Omit<PolicyProblem, 'file'>;

/** A zod issue as a located problem, with did-you-mean for unknown keys and unknown assertion types. */
function describeIssue(issue: z.core.$ZodIssue, positions: YamlPositions, schema: z.ZodType): Problem[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(schema, issue.path);
    return issue.keys.map((key) => {
      const { line, column } = positions.keyAt(issue.path, key);
      const suggestion = didYouMean(key, known);
      const hint = suggestion ? `; did you mean "${suggestion}"?` : known.length ? `; expected one of: ${known.join(', ')}` : '';
      return { line, column, path: formatDataPath([...issue.path, key]), message: `unknown key "${key}"${hint}` };
    });
  }
  const got = positions.rawValueAt(issue.path);
  // An assertion whose `type` is none of the known ones: name the closest.
  if (issue.code === 'invalid_union' && (issue as { discriminator?: string }).discriminator === 'type') {
    const typePath = issue.path.at(-1) === 'type' ? issue.path : [...issue.path, 'type'];
    const type = positions.rawValueAt(typePath);
    const { line, column } = positions.valueAt(typePath);
    const suggestion = typeof type === 'string' ? didYouMean(type, ASSERTION_TYPES) : undefined;
    const what = type === undefined ? 'an assertion needs a `type`' : `unknown assertion type ${JSON.stringify(type)}`;
    const hint = suggestion ? `; did you mean "${suggestion}"?` : `; expected one of: ${ASSERTION_TYPES.join(', ')}`;
    return [{ line, column, path: formatDataPath(typePath), message: `${what}${hint}` }];
  }
  const { line, column } = positions.valueAt(issue.path);
  let message = issue.message.replace(/^Invalid input: /, '');
  if (got !== undefined) message = message.replace(/, received \w+$/, '');
  const gotText = got === undefined ? (issue.code === 'invalid_type' ? ' (missing)' : '') : `, got ${JSON.stringify(got)}`;
  return [{ line, column, path: formatDataPath(issue.path), message: `${message}${gotText}` }];
}

/**
 * Parses a suite file's text. Throws a SuiteError listing every problem at file:line:column: YAML
 * syntax, the schema (unknown keys and assertion types with did-you-mean), duplicate case ids.
 */
export function parseSuite(text: string, file: string): Suite {
  const lines = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const located = (problems: Problem[]) => new SuiteError(problems.map((problem) => ({ file, ...problem })));
  if (document.errors.length > 0) {
    throw located(
      document.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        return { line, column: col, path: '', message: `not valid YAML: ${error.message.split('\n')[0]}` };
      }),
    );
  }
  const positions = new YamlPositions(document, lines);
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw located([{ line: 1, column: 1, path: '', message: errorMessage(error) }]);
  }
  const parsed = SuiteSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => describeIssue(issue, positions, SuiteSchema));
    throw located(problems.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  const seen = new Set<string>();
  const duplicates: Problem[] = [];
  parsed.data.cases.forEach((entry, index) => {
    if (seen.has(entry.id))
      duplicates.push({ ...positions.valueAt(['cases', index, 'id']), path: `cases[${index}].id`, message: `case id "${entry.id}" appears twice` });
    seen.add(entry.id);
  });
  if (duplicates.length > 0) throw located(duplicates);
  return parsed.data;
}

/** Cases from a JSONL file: one case object per line; blank lines are ignored. Problems at file:line:column. */
export function parseCasesJsonl(text: string, file: string): EvalCase[] {
  const cases: EvalCase[] = [];
  const problems: PolicyProblem[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = parseStrictJson(raw);
    } catch (error) {
      const position = /position (\d+)/.exec(errorMessage(error));
      problems.push({ file, line, column: position ? Number(position[1]) + 1 : 1, path: '', message: `not valid JSON: ${errorMessage(error)}` });
      return;
    }
    const parsed = CaseSchema.safeParse(value);
    if (parsed.success) {
      cases.push(parsed.data);
      return;
    }
    for (const issue of parsed.error.issues) {
      const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path[0];
      const column = typeof key === 'string' && raw.includes(`"${key}"`) ? raw.indexOf(`"${key}"`) + 1 : 1;
      const unknownType = issue.code === 'invalid_union' && (issue as { discriminator?: string }).discriminator === 'type';
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        const suggestion = didYouMean(issue.keys[0]!, knownKeysAt(CaseSchema, []));
        message = `unknown key "${issue.keys[0]}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`;
      } else if (unknownType) {
        const type = (value as { assert?: Array<{ type?: unknown }> }).assert?.[issue.path[1] as number]?.type;
        const suggestion = typeof type === 'string' ? didYouMean(type, ASSERTION_TYPES) : undefined;
        message = `unknown assertion type ${JSON.stringify(type)}${suggestion ? `; did you mean "${suggestion}"?` : `; expected one of: ${ASSERTION_TYPES.join(', ')}`}`;
      }
      problems.push({ file, line, column, path: formatDataPath(issue.path), message });
    }
  });
  if (problems.length > 0) throw new SuiteError(problems);
  return cases;
}

/**
 * Reads a suite file from the repository (and its cases file), both confined to it: the files come
 * from the pull request, so a link out of the repository is refused like any other bad input.
 */
export async function loadSuite(repoDir: string, file: string): Promise<LoadedSuite> {
  const read = async (relative: string) => {
    try {
      return await readConfinedFile(path.join(repoDir, relative), { within: repoDir, maxBytes: MAX_SUITE_BYTES });
    } catch (error) {
      throw new SuiteError([{ file: relative, line: 1, column: 1, path: '', message: `cannot be read: ${errorMessage(error)}` }]);
    }
  };
  const bytes = await read(file);
  const suite = parseSuite(bytes.toString('utf8'), file);
  let digest = sha256Hex(bytes);
  if (suite.cases_file === undefined) return { suite, file, digest };

  const casesFile = path.posix.normalize(path.posix.join(path.posix.dirname(file), suite.cases_file));
  const casesBytes = await read(casesFile);
  const more = parseCasesJsonl(casesBytes.toString('utf8'), casesFile);
  const ids = new Set(suite.cases.map((entry) => entry.id));
  const clash = more.find((entry) => ids.has(entry.id) || !ids.add(entry.id));
  if (clash)
    throw new SuiteError([{ file: casesFile, line: 1, column: 1, path: '', message: `case id "${clash.id}" appears twice (in ${file} or this file)` }]);
  digest = sha256Hex(`${digest}\n${sha256Hex(casesBytes)}`);
  return { suite: { ...suite, cases: [...suite.cases, ...more] }, file, digest };
}
