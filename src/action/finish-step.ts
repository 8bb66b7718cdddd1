import * as core from '@actions/core';
import { ExitCode } from '../constants.js';
import { errorMessage } from '../errors.js';
import type { Evidence } from '../evidence/schema.js';
import { type ActionOutputs, writeOutputs } from './outputs.js';

/**
 * The step's visible end: job summary, outputs, and an outcome decided by the verdict alone (a failed
 * publish never fails the step, a failed gate always does). Returns the documented exit code.
 */
export async function finishStep(options: {
  evidence: Evidence | null;
  exitCode: ExitCode;
  jobSummary: string;
  outputs: ActionOutputs;
  failure?: string;
}): Promise<ExitCode> {
  try {
    await core.summary.addRaw(options.jobSummary, true).write();
  } catch (error) {
    core.warning(`Job summary not written: ${errorMessage(error)}`);
  }
  writeOutputs(options.outputs);
  const verdict = options.evidence?.gate.verdict;
  if (options.failure) core.setFailed(options.failure);
  else if (options.exitCode === ExitCode.waitingForHuman)
    core.warning(
      `QualityFoundry: the plan waits for approval (plan ${options.outputs.planHash ?? ''}). A reviewer approves with \`/qf approve\`; the workflow is re-run then.`,
    );
  else if (options.exitCode !== ExitCode.pass)
    core.setFailed(`QualityFoundry: quality gate ${verdict ?? 'failed'}. ${options.evidence?.gate.reasons.slice(0, 3).join(' ') ?? ''}`.trim());
  else core.info(`QualityFoundry: quality gate ${verdict ?? 'passed'}.`);
  return options.exitCode;
}
