import type { Evidence } from '../evidence/schema.js';
import type { CheckRunConclusion } from './check-run-types.js';

/** The gate check run's conclusion: playground never blocks, so it reports neutral whatever happened. */
export function checkRunConclusion(evidence: Evidence): CheckRunConclusion {
  if (evidence.governance.mode === 'playground' && evidence.gate.verdict !== 'needs_approval') return 'neutral';
  switch (evidence.gate.verdict) {
    case 'pass':
      return 'success';
    case 'needs_approval':
      return 'action_required';
    case 'fail':
    case 'blocked':
      return 'failure';
  }
}
