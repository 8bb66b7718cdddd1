import picomatch from 'picomatch';
import type { ChangedMatch } from '../policy/schema.js';
import type { ChangeSet } from './change-set.js';

/** Why a condition applied, e.g. `changed: src/app.py matches **\/*.py`; undefined when it did not. */
export function matchChange(condition: ChangedMatch | undefined, change: Pick<ChangeSet, 'changedFiles' | 'labels'>): string[] | undefined {
  if (!condition) return undefined;
  const reasons: string[] = [];
  let parts = 0;
  if (condition.always !== undefined) {
    parts++;
    if (!condition.always) return undefined;
    reasons.push('always');
  }
  if (condition.changed !== undefined) {
    parts++;
    const hits: string[] = [];
    for (const glob of condition.changed) {
      const isMatch = picomatch(glob, { dot: true });
      const file = change.changedFiles.find((candidate) => isMatch(candidate));
      if (file) hits.push(`changed: ${file} matches ${glob}`);
    }
    if (hits.length === 0) return undefined;
    reasons.push(...hits);
  }
  if (condition.labels !== undefined) {
    parts++;
    const label = condition.labels.find((wanted) => change.labels.includes(wanted));
    if (!label) return undefined;
    reasons.push(`label: ${label}`);
  }
  return parts === 0 ? undefined : reasons;
}
