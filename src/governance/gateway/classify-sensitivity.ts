import picomatch from 'picomatch';
import type { ChangedMatch, GatewayPolicy, Sensitivity } from '../../policy/schema.js';
import { maxSensitivity } from './routing-policies.js';

export interface ClassifyInput {
  changedFiles?: readonly string[];
  labels?: readonly string[];
  /** A level the caller asserts; rules can raise it, never lower it. */
  explicit?: Sensitivity;
}

export interface Classification {
  level: Sensitivity;
  /** Why: `rule 2 (changed secrets/**)`, `explicit CRITICAL`. */
  reasons: string[];
}

/** The highest level among the explicit one and every matching rule; PUBLIC when nothing matches. */
export function classifySensitivity(policy: Pick<GatewayPolicy, 'classify'>, input: ClassifyInput): Classification {
  let level: Sensitivity = input.explicit ?? 'PUBLIC';
  const reasons = input.explicit ? [`explicit ${input.explicit}`] : [];
  policy.classify.forEach((rule, i) => {
    if (!matches(rule.when, input)) return;
    level = maxSensitivity(level, rule.level);
    reasons.push(`rule ${i + 1} (${describe(rule.when)}) → ${rule.level}`);
  });
  return { level, reasons };
}

/** All given parts must hold; an empty condition never applies (the policy schema's rule). */
export function matches(when: ChangedMatch, input: ClassifyInput): boolean {
  const parts: boolean[] = [];
  if (when.changed) {
    const isMatch = picomatch(when.changed, { dot: true });
    parts.push((input.changedFiles ?? []).some((file) => isMatch(file)));
  }
  if (when.labels) parts.push((input.labels ?? []).some((label) => when.labels?.includes(label)));
  if (when.always !== undefined) parts.push(when.always);
  return parts.length > 0 && parts.every(Boolean);
}

function describe(when: ChangedMatch): string {
  const parts: string[] = [];
  if (when.changed) parts.push(`changed ${when.changed.join(', ')}`);
  if (when.labels) parts.push(`labels ${when.labels.join(', ')}`);
  if (when.always !== undefined) parts.push(`always ${when.always}`);
  return parts.join('; ');
}
