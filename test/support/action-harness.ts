import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Bottleneck from 'bottleneck';
import type { ClientTuning } from '../../src/github/create-github-client.js';
import { FakeArtifactService } from './fake-artifact-service.js';
import { FakeGitHub } from './fake-github.js';
import type { FakeApp } from './fake-github-review-routes.js';
import { removeFixtureRepos, type FixtureRepo } from './python-project.js';

export const TOKEN = 'ghs_fakeWorkflowToken0123456789abcdef';
export const OWNER = 'Codertocat';
export const REPO = 'Hello-World';
export const PR_NUMBER = 2;
export const RUN_ID = 30433642;
const FIXTURES = new URL('../fixtures/action/', import.meta.url);

/** An ACTIONS_RUNTIME_TOKEN: a JWT whose `scp` claim names the run and job backends, as the runner's does. */
export const RUNTIME_TOKEN = [
  { alg: 'none', typ: 'JWT' },
  { scp: 'Actions.GenericRead:run-backend-1 Actions.Results:run-backend-1:job-backend-1', exp: 4102444800 },
]
  .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
  .concat('signature')
  .join('.');

export interface Harness {
  github: FakeGitHub;
  artifacts: FakeArtifactService;
  /** @actions/core caches the job summary path per process, so one file serves every run of a test file. */
  summaryFile: string;
  /** Temporary folders made for this harness's runs; close() removes them. */
  tempDirs: string[];
  /** Stops the fakes and removes every temporary folder the runs made, fixture repositories included. */
  close(): Promise<void>;
}

export async function startHarness(options: { app?: FakeApp } = {}): Promise<Harness> {
  const artifacts = await FakeArtifactService.start({ token: RUNTIME_TOKEN });
  const github = await FakeGitHub.start({ token: TOKEN, artifacts, ...(options.app ? { app: options.app } : {}) });
  const summaryDir = await mkdtemp(join(tmpdir(), 'qf-summary-'));
  const summaryFile = join(summaryDir, 'step-summary.md');
  await writeFile(summaryFile, '');
  const tempDirs = [summaryDir];
  const close = async () => {
    await Promise.all([github.close(), artifacts.close()]);
    await Promise.all([...tempDirs.map((dir) => rm(dir, { recursive: true, force: true })), removeFixtureRepos()]);
  };
  return { github, artifacts, summaryFile, tempDirs, close };
}

export async function loadFixture<T = Record<string, any>>(name: string): Promise<T> {
  return JSON.parse(await readFile(new URL(name, FIXTURES), 'utf8')) as T;
}

/** The `pull_request.opened` example payload, pointed at the fixture repository's commits. */
export async function pullRequestPayload(repo: FixtureRepo, options: { fork?: boolean; author?: string } = {}): Promise<Record<string, any>> {
  const payload = await loadFixture('pull_request.opened.json');
  const pr = payload.pull_request;
  pr.number = payload.number = PR_NUMBER;
  pr.head.sha = repo.headSha;
  pr.head.ref = 'changes';
  pr.base.sha = repo.baseSha;
  pr.base.ref = 'master';
  if (options.author) pr.user.login = options.author;
  if (options.fork) {
    pr.head.repo = { ...pr.head.repo, full_name: `forker/${REPO}`, fork: true, owner: { ...pr.head.repo.owner, login: 'forker' } };
    pr.head.label = 'forker:changes';
  }
  return payload;
}

/** Seeds the fake with the pull request: its files (from git) and the policy at base and head. */
export function seedPullRequest(github: FakeGitHub, repo: FixtureRepo, options: { headOwner?: string } = {}): void {
  const diff = execFileSync('git', ['diff', '--name-status', '--no-renames', repo.baseSha, repo.headSha], { cwd: repo.dir, encoding: 'utf8' });
  const files = diff
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [status, filename] = line.split('\t');
      return { filename: filename!, status: status === 'A' ? 'added' : status === 'D' ? 'removed' : 'modified' };
    });
  github.pulls.push({
    number: PR_NUMBER,
    head: { sha: repo.headSha, ref: 'changes', owner: options.headOwner ?? OWNER },
    base: { sha: repo.baseSha, ref: 'master' },
    files,
  });
  for (const sha of [repo.baseSha, repo.headSha]) {
    for (const path of execFileSync('git', ['ls-tree', '-r', '--name-only', sha], { cwd: repo.dir, encoding: 'utf8' }).trim().split('\n')) {
      if (path.startsWith('.github/'))
        github.contents.set(`${sha}:${path}`, execFileSync('git', ['show', `${sha}:${path}`], { cwd: repo.dir, encoding: 'utf8' }));
    }
  }
}

export interface ActionRun {
  eventName: string;
  payload: unknown;
  workspace: string;
  inputs?: Record<string, string>;
  runId?: number;
  /** For pull_request events: the test merge commit GitHub would check out (never where check runs go). */
  sha?: string;
  /** More runner variables (for example the OIDC token request that `id-token: write` grants). */
  env?: Record<string, string>;
}

export interface PreparedRun {
  env: Record<string, string>;
  outputFile: string;
  runnerTemp: string;
}

/** The environment the runner gives a JavaScript action's process, with every URL on 127.0.0.1. */
export async function prepareRun(harness: Harness, run: ActionRun): Promise<PreparedRun> {
  const temp = await mkdtemp(join(tmpdir(), 'qf-runner-'));
  harness.tempDirs.push(temp);
  const eventPath = join(temp, 'event.json');
  const outputFile = join(temp, 'github-output');
  const runnerTemp = join(temp, 'runner-temp');
  await writeFile(eventPath, JSON.stringify(run.payload));
  await writeFile(outputFile, '');
  await writeFile(harness.summaryFile, '');
  const runId = run.runId ?? RUN_ID;
  harness.artifacts.currentRunId = runId;
  harness.github.currentRunId = runId;
  const inputs = {
    policy: '.github/qualityfoundry.yml',
    'github-token': TOKEN,
    'working-directory': '.',
    'artifact-name': 'qualityfoundry-evidence',
    'approval-app': '',
    mode: 'gate',
    'dry-run': 'false',
    ...run.inputs,
  };
  const env: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_EVENT_NAME: run.eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
    GITHUB_REPOSITORY_OWNER: OWNER,
    GITHUB_SHA: run.sha ?? 'a'.repeat(40),
    GITHUB_REF: `refs/pull/${PR_NUMBER}/merge`,
    GITHUB_RUN_ID: String(runId),
    GITHUB_RUN_ATTEMPT: String(harness.github.workflowRuns.find((known) => known.id === runId)?.run_attempt ?? 1),
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: harness.github.url,
    GITHUB_WORKSPACE: run.workspace,
    GITHUB_STEP_SUMMARY: harness.summaryFile,
    GITHUB_OUTPUT: outputFile,
    RUNNER_TEMP: runnerTemp,
    ACTIONS_RESULTS_URL: `${harness.artifacts.url}/`,
    ACTIONS_RUNTIME_TOKEN: RUNTIME_TOKEN,
    ...run.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return { env, outputFile, runnerTemp };
}

const RUNNER_KEYS = /^(GITHUB_|INPUT_|ACTIONS_|RUNNER_)/;

/** Runs `fn` with exactly the runner's variables set in process.env (@actions/core reads it at call time). */
export async function withRunnerEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const key of Object.keys(process.env)) if (RUNNER_KEYS.test(key)) delete process.env[key];
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    process.exitCode = undefined;
  }
}

/** Parses GITHUB_OUTPUT's `name<<delimiter` blocks. */
export async function readOutputs(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8');
  const outputs: Record<string, string> = {};
  const pattern = /^([^<\n]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(pattern)) outputs[match[1]!] = match[3]!;
  return outputs;
}

/** Forgets everything the previous test left in the fakes. */
export function resetHarness(harness: Harness): void {
  const { github, artifacts } = harness;
  github.requests.length = 0;
  github.checkRuns.length = 0;
  github.pulls.length = 0;
  github.faults.length = 0;
  github.contents.clear();
  github.readOnly = false;
  github.currentRunId = null;
  for (const list of [github.workflowRuns, github.reruns, github.comments, github.reactions, github.hookDeliveries, github.redeliveryRequests]) list.length = 0;
  github.onRedeliver = undefined;
  github.permissions.clear();
  github.teams.clear();
  artifacts.artifacts.length = 0;
  artifacts.calls.length = 0;
}

/**
 * Retry and throttle waits shrunk to milliseconds; the logic under test is the same. Writes still
 * go one at a time through a real Bottleneck group (the plugin's own kind), just without the 1 s gap.
 */
export const FAST_TUNING: ClientTuning = {
  retryAfterBaseValue: 1,
  writeGroup: new Bottleneck.Group({ id: 'qf-test-write', maxConcurrent: 1, minTime: 0 }) as unknown as NonNullable<ClientTuning['writeGroup']>,
};

export interface ActionResult {
  exitCode: number;
  outputs: Record<string, string>;
  jobSummary: string;
  runnerTemp: string;
}

/** Runs the real run() for a pull_request event on the fixture repository. */
export async function runOnPullRequest(
  harness: Harness,
  repo: FixtureRepo,
  options: { inputs?: Record<string, string>; env?: Record<string, string>; fork?: boolean; author?: string; seed?: boolean } = {},
): Promise<ActionResult> {
  const { run } = await import('../../src/action/run.js');
  if (options.seed !== false) seedPullRequest(harness.github, repo, options.fork ? { headOwner: 'forker' } : {});
  const payload = await pullRequestPayload(repo, { ...(options.fork ? { fork: true } : {}), ...(options.author ? { author: options.author } : {}) });
  const prepared = await prepareRun(harness, {
    eventName: 'pull_request',
    payload,
    workspace: repo.dir,
    ...(options.inputs ? { inputs: options.inputs } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const exitCode = await withRunnerEnv(prepared.env, () => run({ tuning: FAST_TUNING }));
  return {
    exitCode,
    outputs: await readOutputs(prepared.outputFile),
    jobSummary: await readFile(harness.summaryFile, 'utf8'),
    runnerTemp: prepared.runnerTemp,
  };
}
