import * as core from '@actions/core';
import type { ClientLog } from '../github/create-github-client.js';

/** The runner's log, in the shape src/github expects (it never imports @actions/*). */
export const actionLog: ClientLog = {
  debug: (message) => core.debug(message),
  info: (message) => core.info(message),
  warn: (message) => core.warning(message),
  error: (message) => core.error(message),
};
