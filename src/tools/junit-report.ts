import path from 'node:path';
import { SaxesParser, type SaxesTag } from 'saxes';
import { isQfError, QfError } from '../errors.js';
import { MAX_STEP_FILE_BYTES, openConfinedFile, readConfined, type ConfinedFile } from '../util/open-confined-file.js';
import type { TestCase, TestCounts, TestOutcome } from '../evidence/schema.js';

export interface JUnitParseOptions {
  /** Most non-passing tests kept with their details; the rest are only counted. */
  maxNotable?: number;
  /** Bytes kept of each failure message and of each traceback. */
  maxTextBytes?: number;
  /** Called for every test case, in document order (the streaming view of all outcomes). */
  onTestCase?: (test: TestCase) => void;
  /** The folder the report must really be in (default: its own); see openConfinedFile. */
  within?: string;
  /** Larger reports are refused (default MAX_STEP_FILE_BYTES). */
  maxBytes?: number;
  /**
   * Awaited after each chunk of the file is parsed, before the next is read: a consumer of
   * onTestCase can write out what it collected (back-pressure, so memory stays bounded).
   */
  afterChunk?: () => Promise<void>;
}

export interface JUnitSummary {
  counts: TestCounts;
  durationSeconds: number;
  /** Tests that failed, errored or xpassed(strict), in document order, capped at maxNotable. */
  notable: TestCase[];
  /** True when more notable tests existed than were kept. */
  truncated: boolean;
}

/**
 * A traceback frame's location line: `path/to/x.py:12: AssertionError` ends a traceback, and
 * `path/to/x.py:7: ` or `path/to/x.py:7: in helper` stand for the frames before it.
 */
const FRAME_LOCATION = /^([^\s:][^:\n]*\.py):(\d+):(?: |$)/gm;

function cap(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return `${Buffer.from(text)
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '')}\n… (truncated)`;
}

/**
 * `file` as a path inside the repository, or undefined when it is not one. pytest prints frame paths
 * relative to the folder it ran in (`../../venv/lib/…/site-packages/attr/__init__.py` for code
 * outside it), so anything absolute or climbing out with `..` is outside; installed packages are
 * third-party code even when the virtualenv lives in the repository.
 */
export function repositoryPath(file: string): string | undefined {
  const normal = path.posix.normalize(file.replaceAll('\\', '/'));
  if (path.posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) return undefined;
  if (/(^|\/)(site|dist)-packages\//.test(normal)) return undefined;
  return normal;
}

/**
 * Where a failure happened: the innermost traceback frame inside the repository, else the test's
 * own definition. Never a path outside the repository: a failure inside an installed library is
 * shown where the repository's code called into it.
 */
function failureLocation(test: { file?: string; line?: number }, details: string): { file?: string; line?: number } {
  let innermost: { file: string; line: number } | undefined;
  for (const match of details.matchAll(FRAME_LOCATION)) {
    const file = repositoryPath(match[1]!);
    if (file) innermost = { file, line: Number(match[2]) };
  }
  if (innermost) return innermost;
  const own = test.file === undefined ? undefined : repositoryPath(test.file);
  return own ? { file: own, ...(test.line !== undefined ? { line: test.line } : {}) } : {};
}

function testId(classname: string, name: string, file: string | undefined): string {
  if (file && classname) {
    // pytest's classname is the module path (dots) plus any class names; rebuild the node id.
    const modulePath = file.replace(/\.py$/, '').replaceAll('/', '.');
    const classes = classname.startsWith(modulePath) ? classname.slice(modulePath.length).replace(/^\./, '') : '';
    return [file, ...(classes ? classes.split('.') : []), name].join('::');
  }
  return classname ? `${classname}::${name}` : name;
}

/**
 * Streams a pytest JUnit XML report. Memory is constant in the number of test cases: only counts
 * and the capped list of notable failures are kept. Counts come from the <testcase> elements, never
 * from the <testsuite tests=…> attribute (pytest 9 counts subtests there).
 */
export async function parseJUnitReport(file: string, options: JUnitParseOptions = {}): Promise<JUnitSummary> {
  const collector = junitCollector(options);
  // The report was written by the step's code: read it only as a regular file inside its folder.
  let opened: ConfinedFile;
  try {
    opened = await openConfinedFile(file, { within: options.within ?? path.dirname(file), maxBytes: options.maxBytes ?? MAX_STEP_FILE_BYTES });
  } catch (error) {
    if (isQfError(error) && /does not exist/.test(error.message))
      throw new QfError('TOOL_FAILED', `The JUnit report ${file} does not exist.`, { cause: error });
    throw error;
  }
  try {
    const decoder = new TextDecoder('utf-8');
    for await (const chunk of readConfined(opened)) {
      collector.parser.write(decoder.decode(chunk, { stream: true }));
      if (options.afterChunk) await options.afterChunk().catch((failure: unknown) => Promise.reject(new HookFailure(failure)));
    }
    collector.parser.write(decoder.decode());
    collector.parser.close();
  } catch (error) {
    // What the consumer's own hook threw (the store) is its error, not the report's.
    if (error instanceof HookFailure) throw error.failure;
    throw new QfError(
      'TOOL_FAILED',
      `The JUnit report ${file} is truncated or not valid XML (${(error as Error).message.split('\n')[0]}); counted ${collector.counted()} test cases before the break.`,
      { cause: error },
    );
  } finally {
    await opened.close();
  }
  const summary = collector.summary();
  if (!summary) throw new QfError('TOOL_FAILED', `The JUnit report ${file} has no <testsuite> element; expected a pytest --junitxml report.`);
  return summary;
}

/** Carries what afterChunk threw past the catch that names a broken report. */
class HookFailure extends Error {
  constructor(readonly failure: unknown) {
    super('afterChunk failed');
  }
}

/**
 * Subtests from what the <testsuite> attributes count beyond the <testcase> elements: pytest 9 adds
 * every subtest report to `tests`, and a failed one to `failures` (a passed one prints nothing in
 * pytest's default output, so this is the only place they can be counted).
 */
function withSubtests(counts: TestCounts, suite: { tests: number; failures: number; errors: number }, failedAndErrored: number): TestCounts {
  const subtests = Math.max(0, suite.tests - counts.total);
  const testFailures = counts.failed + counts.errors + failedAndErrored;
  const subtestsFailed = Math.min(subtests, Math.max(0, suite.failures + suite.errors - testFailures));
  return { ...counts, subtestsPassed: subtests - subtestsFailed, subtestsFailed };
}

/** A SAX parser wired to count and keep test cases; `summary()` is undefined until a <testsuite> was seen. */
function junitCollector(options: JUnitParseOptions): { parser: SaxesParser; counted: () => number; summary: () => JUnitSummary | undefined } {
  const maxNotable = options.maxNotable ?? 1_000;
  const maxTextBytes = options.maxTextBytes ?? 8_192;
  const counts: TestCounts = { total: 0, passed: 0, failed: 0, errors: 0, skipped: 0, xfailed: 0, xpassed: 0 };
  const notable: TestCase[] = [];
  let truncated = false;
  let durationSeconds = 0;
  let sawRoot = false;
  // pytest 9 counts each subtest in <testsuite tests/failures> but writes no <testcase> for it.
  const suite = { tests: 0, failures: 0, errors: 0 };
  let failedAndErrored = 0;

  let current:
    | { attrs: Record<string, string>; outcome: TestOutcome; message?: string; text: string; collecting: boolean; failed: boolean; errored: boolean }
    | undefined;

  const parser = new SaxesParser({ position: false });
  parser.on('opentag', (tag: SaxesTag) => {
    const attrs = tag.attributes as Record<string, string>;
    if (tag.name === 'testsuites' || tag.name === 'testsuite') sawRoot = true;
    if (tag.name === 'testsuite') {
      suite.tests += Number(attrs.tests) || 0;
      suite.failures += Number(attrs.failures) || 0;
      suite.errors += Number(attrs.errors) || 0;
    }
    if (tag.name === 'testcase') {
      current = { attrs, outcome: 'passed', text: '', collecting: false, failed: false, errored: false };
      return;
    }
    if (!current) return;
    const message = attrs.message;
    if (tag.name === 'failure') {
      current.failed = true;
      current.outcome = message?.startsWith('[XPASS(strict)]') ? 'xpassed' : 'failed';
    } else if (tag.name === 'error') {
      current.errored = true;
      if (current.outcome !== 'failed') current.outcome = 'error';
    } else if (tag.name === 'skipped') {
      current.outcome = attrs.type === 'pytest.xfail' ? 'xfailed' : 'skipped';
    } else return;
    if (current.message === undefined && message !== undefined) current.message = cap(message, maxTextBytes);
    current.collecting = true;
  });
  parser.on('text', (text) => {
    if (current?.collecting && current.text.length < maxTextBytes * 4) current.text += text;
  });
  parser.on('closetag', (tag) => {
    if (!current) return;
    if (tag.name === 'failure' || tag.name === 'error' || tag.name === 'skipped') current.collecting = false;
    if (tag.name !== 'testcase') return;
    const { attrs, outcome } = current;
    const file = attrs.file || undefined;
    const definitionLine = attrs.line !== undefined && attrs.line !== '' ? Number(attrs.line) + 1 : undefined; // pytest's line is 0-based
    const duration = Number(attrs.time ?? 0) || 0;
    durationSeconds += duration;
    counts.total += 1;
    // A test that failed and then errored in teardown is one <testcase> but two of pytest's counts.
    if (current.failed && current.errored) failedAndErrored += 1;
    // A strict XPASS is a failure to pytest, and to the gate.
    const counted = outcome === 'xpassed' ? 'failed' : outcome;
    if (counted === 'error') counts.errors += 1;
    else counts[counted] += 1;

    const test: TestCase = { id: testId(attrs.classname ?? '', attrs.name ?? '', file), outcome, durationSeconds: duration };
    const ownFile = file === undefined ? undefined : repositoryPath(file);
    if (ownFile !== undefined) {
      test.file = ownFile;
      if (definitionLine !== undefined) test.line = definitionLine;
    }
    if (current.message !== undefined) test.message = current.message;
    if (outcome === 'failed' || outcome === 'error' || outcome === 'xpassed') {
      const details = cap(current.text, maxTextBytes);
      // Locate from the uncapped text: the `path:line: Exc` line ends the traceback, past any cap.
      const location = failureLocation(
        { ...(file !== undefined ? { file } : {}), ...(definitionLine !== undefined ? { line: definitionLine } : {}) },
        current.text,
      );
      delete test.file;
      delete test.line;
      Object.assign(test, location);
      if (details) test.details = details;
      if (notable.length < maxNotable) notable.push(test);
      else truncated = true;
    }
    options.onTestCase?.(test);
    current = undefined;
  });

  return {
    parser,
    counted: () => counts.total,
    summary: () => (sawRoot ? { counts: withSubtests(counts, suite, failedAndErrored), durationSeconds, notable, truncated } : undefined),
  };
}
