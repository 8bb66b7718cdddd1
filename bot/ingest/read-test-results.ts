import path from 'node:path';
import { errorMessage } from '../../src/errors.js';
import type { Evidence } from '../../src/evidence/schema.js';
import type { TestResultRow } from '../../src/store/index.js';
import { parseJUnitReport } from '../../src/tools/junit-report.js';

/** Bytes kept of a failure message in the store: enough to recognise it, the bundle has the rest. */
const MESSAGE_BYTES = 2_048;

export interface ReadTestResults {
  rows: TestResultRow[];
  /** Reports that could not be read (the step's tests are then not recorded), for the run's data. */
  problems: string[];
}

/**
 * Every test case of a validated bundle: the evidence keeps only the notable ones, so the step's own
 * JUnit reports (listed in its artifacts, digests already checked) are streamed for the rest. The
 * reports came from the pull request's tests: read only as regular files inside the bundle's folder.
 */
export async function readTestResults(
  dir: string,
  evidence: Evidence,
  run: { projectId: string; runId: string; headSha: string | null },
): Promise<ReadTestResults> {
  const rows: TestResultRow[] = [];
  const problems: string[] = [];
  for (const step of evidence.steps) {
    for (const report of step.artifacts.filter((file) => file.endsWith('.xml'))) {
      const stepRows: TestResultRow[] = [];
      try {
        await parseJUnitReport(path.join(dir, report), {
          within: dir,
          maxNotable: 0,
          maxTextBytes: MESSAGE_BYTES,
          onTestCase: (test) => {
            stepRows.push({
              projectId: run.projectId,
              runId: run.runId,
              runStartedAt: evidence.startedAt,
              headSha: run.headSha,
              stepId: step.id,
              seq: rows.length + stepRows.length,
              testId: test.id,
              file: test.file ?? null,
              line: test.line ?? null,
              outcome: test.outcome,
              durationMs: Math.round(test.durationSeconds * 1_000_000) / 1_000,
              message: test.outcome === 'passed' ? null : (test.message ?? null),
            });
          },
        });
        rows.push(...stepRows);
      } catch (error) {
        problems.push(`step ${step.id}: ${report}: ${errorMessage(error)}`);
      }
    }
  }
  return { rows, problems };
}
