import { QfError } from '../errors.js';

/** One problem in a policy file, located in its source. */
export interface PolicyProblem {
  file: string;
  line: number;
  column: number;
  /** Data path in dotted form, e.g. `gate[0].op`; empty for the document itself. */
  path: string;
  message: string;
}

export function formatProblem(problem: PolicyProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  return problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** A policy that cannot be used. The message lists every problem, one per line. */
export class PolicyError extends QfError {
  readonly problems: PolicyProblem[];

  constructor(problems: PolicyProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super('POLICY_INVALID', `Policy ${problems[0]?.file ?? ''} has ${count}:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'PolicyError';
    this.problems = problems;
  }
}

/** `['gate', 0, 'op']` → `gate[0].op` */
export function formatDataPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text ? `${text}.${String(segment)}` : String(segment);
  }, '');
}
