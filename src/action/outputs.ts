import * as core from '@actions/core';
import { ActionOutput } from '../constants.js';

export interface ActionOutputs {
  verdict: string;
  planHash: string | undefined;
  evidencePath: string | undefined;
  checkRunId: number | null;
}

/** Sets every output of action.yml; missing values become empty strings so later steps can test them. */
export function writeOutputs(outputs: ActionOutputs): void {
  core.setOutput(ActionOutput.verdict, outputs.verdict);
  core.setOutput(ActionOutput.planHash, outputs.planHash ?? '');
  core.setOutput(ActionOutput.evidencePath, outputs.evidencePath ?? '');
  core.setOutput(ActionOutput.checkRunId, outputs.checkRunId === null ? '' : String(outputs.checkRunId));
}
