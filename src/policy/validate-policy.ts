import picomatch from 'picomatch';
import { didYouMean } from './did-you-mean.js';
import { isKnownMetric, metricPatterns } from './metric-catalog.js';
import type { ChangedMatch, GateRule, PlanRule, Policy } from './schema.js';
import { knownKeysAt } from './schema-keys.js';
import { TOOL_CONTRACTS } from './tool-contracts.js';

export interface SemanticProblem {
  path: PropertyKey[];
  message: string;
  /** Set when the problem is a key (an unknown key): its position is the key's, not the value's. */
  key?: string;
}

/**
 * The sections of a policy that passed the schema. When another part of the file fails it, the
 * semantic checks still run on these, so that one pass reports every problem the file has; a
 * section or list entry that failed is absent (undefined) and is not checked again.
 */
export interface PolicyParts {
  sandbox?: Policy['sandbox'] | undefined;
  tools?: Policy['tools'] | undefined;
  plan: readonly (PlanRule | undefined)[];
  approval?: Policy['approval'] | undefined;
  gate: readonly (GateRule | undefined)[];
  gateway?: Policy['gateway'] | undefined;
}

function checkGlobs(match: ChangedMatch | undefined, at: PropertyKey[], problems: SemanticProblem[]): void {
  match?.changed?.forEach((glob, index) => {
    try {
      picomatch.makeRe(glob, { strictBrackets: true, dot: true });
      if (glob.startsWith('/') || glob.split('/').includes('..')) throw new Error('globs are repository-relative; no leading / or ..');
    } catch (error) {
      problems.push({ path: [...at, 'changed', index], message: `invalid glob "${glob}": ${(error as Error).message}` });
    }
  });
}

/**
 * Checks that need more than one field's schema: tools exist and their inputs fit, named commands
 * exist, gate metrics are published by some tool, globs compile, ids are unique.
 */
export function validatePolicySemantics(policy: PolicyParts): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const toolNames = [...TOOL_CONTRACTS.keys()];

  policy.tools?.allowlist.forEach((name, index) => {
    if (!TOOL_CONTRACTS.has(name)) {
      const hint = didYouMean(name, toolNames);
      problems.push({
        path: ['tools', 'allowlist', index],
        message: `unknown tool "${name}"${hint ? `; did you mean "${hint}"?` : `; expected one of: ${toolNames.join(', ')}`}`,
      });
    }
  });

  const stepIds = new Set<string>();
  policy.plan.forEach((rule, index) => {
    if (!rule) return;
    checkGlobs(rule.when, ['plan', index, 'when'], problems);
    const tool = TOOL_CONTRACTS.get(rule.run);
    if (!tool) {
      const hint = didYouMean(rule.run, toolNames);
      problems.push({
        path: ['plan', index, 'run'],
        message: `unknown tool "${rule.run}"${hint ? `; did you mean "${hint}"?` : `; expected one of: ${toolNames.join(', ')}`}`,
      });
      return;
    }
    const input = tool.input.safeParse(rule.with);
    if (!input.success) {
      for (const issue of input.error.issues) {
        const at = ['plan', index, 'with', ...issue.path];
        if (issue.code === 'unrecognized_keys') {
          const known = knownKeysAt(tool.input, issue.path);
          for (const key of issue.keys) {
            const suggestion = didYouMean(key, known);
            const hint = suggestion ? `; did you mean "${suggestion}"?` : known.length ? `; expected one of: ${known.join(', ')}` : '';
            problems.push({ path: [...at, key], key, message: `unknown key "${key}" for ${rule.run}${hint}` });
          }
        } else problems.push({ path: at, message: issue.message.replace(/^Invalid input: /, '') });
      }
    }
    for (const problem of tool.checkInPolicy?.(rule.with, policy) ?? [])
      problems.push({ path: ['plan', index, 'with', ...problem.path], message: problem.message });
    const id = rule.id ?? `${rule.run}-${index + 1}`;
    if (stepIds.has(id)) problems.push({ path: ['plan', index, 'id'], message: `duplicate step id "${id}"` });
    stepIds.add(id);
  });
  // Dependencies name steps of the plan: a typo would otherwise be a "missing dependency" on every run.
  policy.plan.forEach((rule, index) => {
    if (!rule) return;
    const id = rule.id ?? `${rule.run}-${index + 1}`;
    rule.depends_on?.forEach((dependency, at) => {
      const path = ['plan', index, 'depends_on', at];
      if (dependency === id) problems.push({ path, message: `step "${id}" cannot depend on itself` });
      else if (!stepIds.has(dependency)) {
        const hint = didYouMean(dependency, [...stepIds]);
        problems.push({
          path,
          message: `unknown step "${dependency}"${hint ? `; did you mean "${hint}"?` : `; expected one of: ${[...stepIds].join(', ')}`}`,
        });
      }
    });
  });

  checkGlobs(policy.approval?.required_when, ['approval', 'required_when'], problems);
  policy.gateway?.classify.forEach((rule, index) => {
    checkGlobs(rule.when, ['gateway', 'classify', index, 'when'], problems);
  });

  const ruleIds = new Set<string>();
  policy.gate.forEach((rule, index) => {
    if (!rule) return;
    if (!isKnownMetric(rule.metric)) {
      const hint = didYouMean(rule.metric, metricPatterns());
      problems.push({
        path: ['gate', index, 'metric'],
        message: `unknown metric "${rule.metric}"${hint ? `; did you mean "${hint}"?` : '; run `qf metrics` for the list'}`,
      });
    }
    if (ruleIds.has(rule.id)) problems.push({ path: ['gate', index, 'id'], message: `duplicate gate rule id "${rule.id}"` });
    ruleIds.add(rule.id);
  });

  if (policy.sandbox?.mode === 'container' && !policy.sandbox.container) {
    problems.push({ path: ['sandbox', 'mode'], message: 'sandbox.mode is "container" but sandbox.container (with an image) is missing' });
  }
  return problems;
}
