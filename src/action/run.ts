import * as core from '@actions/core';
import { ActionInput, type ExitCode } from '../constants.js';
import { errorMessage, exitCodeForError, isQfError } from '../errors.js';
import { type ClientTuning, createGitHubClient } from '../github/create-github-client.js';
import { actionLog } from './action-log.js';
import { readContext } from './context.js';
import { readInputs } from './inputs.js';
import { runGate } from './run-gate.js';
import { runMerge } from './run-merge.js';
import { runPublish } from './run-publish.js';

/** Only tests pass these: shorter retry waits against the local fake. */
export interface RunOverrides {
  tuning?: ClientTuning;
}

const USER_AGENT = 'qualityfoundry-action';

/**
 * The Action: inputs and runner context in, one of three modes, an exit code out (README, "Exit codes";
 * errors map through the same table as the CLI's). It never throws; errors fail the step.
 */
export async function run(overrides: RunOverrides = {}): Promise<ExitCode> {
  let exitCode: ExitCode;
  try {
    // Masked before anything can print them; a multi-line key is masked line by line.
    for (const line of core.getInput(ActionInput.signingKey).split('\n')) if (line.trim().length > 8) core.setSecret(line.trim());
    const inputs = readInputs();
    core.setSecret(inputs.githubToken);
    if (inputs.apiToken) core.setSecret(inputs.apiToken);
    const context = readContext(process.env);
    const octokit = createGitHubClient({
      token: inputs.githubToken,
      baseUrl: context.apiUrl,
      userAgent: USER_AGENT,
      log: actionLog,
      ...(overrides.tuning ? { tuning: overrides.tuning } : {}),
    });
    const runMode = { gate: runGate, publish: runPublish, merge: runMerge }[inputs.mode];
    exitCode = await runMode({ inputs, context, octokit });
  } catch (error) {
    core.setFailed(isQfError(error) ? error.message : `Unexpected error: ${errorMessage(error)}`);
    exitCode = exitCodeForError(error);
  }
  process.exitCode = exitCode;
  return exitCode;
}
