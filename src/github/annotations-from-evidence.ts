import { posix } from 'node:path';
import type { Evidence } from '../evidence/schema.js';
import type { CheckRunAnnotation } from './check-run-types.js';
import { PlatformLimit, truncateBytes, truncateChars } from './limits.js';

/**
 * Every failing or erroring test that has a location becomes a failure annotation at file:line.
 * `pathPrefix` is the working directory relative to the repository root, since annotations take
 * repository-relative paths and the tests ran inside the working directory.
 */
export function annotationsFromEvidence(evidence: Evidence, pathPrefix = ''): CheckRunAnnotation[] {
  const annotations: CheckRunAnnotation[] = [];
  for (const step of evidence.steps) {
    for (const test of step.tests?.notable ?? []) {
      if (test.outcome !== 'failed' && test.outcome !== 'error') continue;
      if (!test.file || test.line === undefined) continue;
      const line = Math.max(1, test.line);
      annotations.push({
        path: posix.normalize(posix.join(pathPrefix, test.file)),
        start_line: line,
        end_line: line,
        annotation_level: 'failure',
        title: truncateChars(`${test.outcome === 'error' ? 'Error' : 'Failed'}: ${test.id}`, PlatformLimit.annotationTitleChars),
        message: truncateBytes(test.message?.trim() || `${test.id} ${test.outcome}`, PlatformLimit.annotationMessageBytes),
        ...(test.details ? { raw_details: truncateBytes(test.details, PlatformLimit.annotationMessageBytes) } : {}),
      });
    }
  }
  return annotations;
}
