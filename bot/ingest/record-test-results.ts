import path from 'node:path';
import { errorMessage, isQfError } from '../../src/errors.js';
import type { Evidence } from '../../src/evidence/schema.js';
import type { StorageBackend, TestResultRow } from '../../src/store/index.js';
import { parseJUnitReport } from '../../src/tools/junit-report.js';

/** Bytes kept of a failure message in the store: enough to recognise it, the bundle has the rest. */
const MESSAGE_BYTES = 2_048;
/** Rows written at once: what is held in memory of a report, however many test cases it has. */
const BATCH_ROWS = 500;

export interface RecordedTestResults {
  /** Test cases stored. */
  count: number;
  /** Reports that could not be read (the report's tests are then not recorded), for the run's data. */
  problems: string[];
}

/**
 * Stores every test case of a validated bundle: the evidence keeps only the notable ones, so the
 * step's own JUnit reports (listed in its artifacts, digests already checked) are streamed for the
 * rest and written in batches as they are parsed, so memory does not grow with the suite. Called
 * inside the ingestion's transaction: a report that breaks off part way has its rows taken back and
 * is named in `problems`; any other failure (the store's) rolls the whole ingestion back. The
 * reports came from the pull request's tests: read only as regular files inside the bundle's folder.
 */
export async function recordTestResults(
  store: StorageBackend,
  dir: string,
  evidence: Evidence,
  run: { projectId: string; runId: string; headSha: string | null },
): Promise<RecordedTestResults> {
  const problems: string[] = [];
  let seq = 0;
  for (const step of evidence.steps) {
    for (const report of step.artifacts.filter((file) => file.endsWith('.xml'))) {
      const first = seq;
      let batch: TestResultRow[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const rows = batch;
        batch = [];
        await store.insertTestResults(rows);
      };
      try {
        await parseJUnitReport(path.join(dir, report), {
          within: dir,
          maxNotable: 0,
          maxTextBytes: MESSAGE_BYTES,
          onTestCase: (test) => {
            batch.push({
              projectId: run.projectId,
              runId: run.runId,
              runStartedAt: evidence.startedAt,
              headSha: run.headSha,
              stepId: step.id,
              seq: seq++,
              testId: test.id,
              file: test.file ?? null,
              line: test.line ?? null,
              outcome: test.outcome,
              durationMs: Math.round(test.durationSeconds * 1_000_000) / 1_000,
              message: test.outcome === 'passed' ? null : (test.message ?? null),
            });
          },
          afterChunk: async () => {
            if (batch.length >= BATCH_ROWS) await flush();
          },
        });
        await flush();
      } catch (error) {
        if (!isQfError(error, 'TOOL_FAILED')) throw error;
        batch = [];
        await store.deleteTestResults(run.runId, step.id, first);
        seq = first;
        problems.push(`step ${step.id}: ${report}: ${errorMessage(error)}`);
      }
    }
  }
  return { count: seq, problems };
}
