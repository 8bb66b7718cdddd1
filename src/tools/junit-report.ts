import { createReadStream } from 'node:fs';
import { SaxesParser, type SaxesTag } from 'saxes';
import { QfError } from '../errors.js';
import type { TestCase, TestCounts, TestOutcome } from '../evidence/schema.js';

export interface JUnitParseOptions {
  /** Most non-passing tests kept with their details; the rest are only counted. */
  maxNotable?: number;
  /** Bytes kept of each failure message and of each traceback. */
  maxTextBytes?: number;
  /** Called for every test case, in document order (the streaming view of all outcomes). */
  onTestCase?: (test: TestCase) => void;
}

export interface JUnitSummary {
  counts: TestCounts;
  durationSeconds: number;
  /** Tests that failed, errored or xpassed(strict), in document order, capped at maxNotable. */
  notable: TestCase[];
  /** True when more notable tests existed than were kept. */
  truncated: boolean;
}

/** `path/to/test_x.py:12: AssertionError` — the line pytest ends a traceback with. */
const TRACEBACK_LOCATION = /^([^\s:][^:\n]*\.py):(\d+): [\w.]+/gm;

function cap(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  return Buffer.from(text).subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '') + '\n… (truncated)';
}

/** Where a failure happened: the last traceback line inside the test's own file, else its definition. */
function failureLocation(test: { file?: string; line?: number }, details: string): { file?: string; line?: number } {
  let fallback: { file: string; line: number } | undefined;
  for (const match of details.matchAll(TRACEBACK_LOCATION)) {
    const location = { file: match[1]!, line: Number(match[2]) };
    if (location.file === test.file) fallback = location;
    else if (!fallback && !location.file.startsWith('/')) fallback = location;
  }
  return fallback ?? test;
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
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream) collector.parser.write(chunk as string);
    collector.parser.close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new QfError('TOOL_FAILED', `The JUnit report ${file} does not exist.`, { cause: error });
    throw new QfError('TOOL_FAILED', `The JUnit report ${file} is truncated or not valid XML (${(error as Error).message.split('\n')[0]}); counted ${collector.counted()} test cases before the break.`, { cause: error });
  }
  const summary = collector.summary();
  if (!summary) throw new QfError('TOOL_FAILED', `The JUnit report ${file} has no <testsuite> element; expected a pytest --junitxml report.`);
  return summary;
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

  let current: { attrs: Record<string, string>; outcome: TestOutcome; message?: string; text: string; collecting: boolean } | undefined;

  const parser = new SaxesParser({ position: false });
  parser.on('opentag', (tag: SaxesTag) => {
    const attrs = tag.attributes as Record<string, string>;
    if (tag.name === 'testsuites' || tag.name === 'testsuite') sawRoot = true;
    if (tag.name === 'testcase') {
      current = { attrs, outcome: 'passed', text: '', collecting: false };
      return;
    }
    if (!current) return;
    const message = attrs.message;
    if (tag.name === 'failure') {
      current.outcome = message?.startsWith('[XPASS(strict)]') ? 'xpassed' : 'failed';
    } else if (tag.name === 'error') {
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
    // A strict XPASS is a failure to pytest, and to the gate.
    const counted = outcome === 'xpassed' ? 'failed' : outcome;
    if (counted === 'error') counts.errors += 1;
    else counts[counted] += 1;

    const test: TestCase = { id: testId(attrs.classname ?? '', attrs.name ?? '', file), outcome, durationSeconds: duration };
    if (file !== undefined) test.file = file;
    if (definitionLine !== undefined) test.line = definitionLine;
    if (current.message !== undefined) test.message = current.message;
    if (outcome === 'failed' || outcome === 'error' || outcome === 'xpassed') {
      const details = cap(current.text, maxTextBytes);
      // Locate from the uncapped text: the `path:line: Exc` line ends the traceback, past any cap.
      Object.assign(test, failureLocation(test, current.text));
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
    summary: () => (sawRoot ? { counts, durationSeconds, notable, truncated } : undefined),
  };
}

/** Test cases per slice of the warm-up: each slice is well under a millisecond of parsing. */
const WARM_UP_SLICE = 40;
const WARM_UP_SLICES = 75;
/** Test cases the whole warm-up parses (each slice adds a failure and a skip). */
export const WARM_UP_TEST_CASES = WARM_UP_SLICES * (WARM_UP_SLICE + 2);

/**
 * Parses a made-up report (passes, a failure with its traceback, a skip) in small slices between
 * other work, so V8 has compiled the parser before the real report arrives. Run while pytest runs:
 * a cold parse of 1,000 test cases took 21 ms, one after this warm-up 8.5 ms (bench/results/core.md).
 * Stops at once when `stop` is called; a parse that has not warmed up is only slower, never wrong.
 */
export function warmUpJUnitParser(): { stop: () => void; done: Promise<number> } {
  let stopped = false;
  const { parser, counted } = junitCollector({ maxNotable: 1 });
  let finish: (cases: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));
  let slice = 0;
  const next = () => {
    if (stopped || slice === WARM_UP_SLICES) return finish(counted());
    let xml = slice === 0 ? '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="2" time="0.1">' : '';
    for (let index = 0; index < WARM_UP_SLICE; index++) {
      const line = slice * WARM_UP_SLICE + index;
      xml += `<testcase classname="tests.test_warm_up.TestWarmUp" name="test_case[${line}-a&amp;b]" file="tests/test_warm_up.py" line="${line}" time="0.001" />`;
    }
    xml += `<testcase classname="tests.test_warm_up" name="test_fails" file="tests/test_warm_up.py" line="7" time="0.002"><failure message="assert 1 == 2">def test_fails():\n&gt;       assert 1 == 2\nE       assert 1 == 2\n\ntests/test_warm_up.py:8: AssertionError</failure></testcase>`;
    xml += '<testcase classname="tests.test_warm_up" name="test_skips" file="tests/test_warm_up.py" line="9" time="0.000"><skipped type="pytest.skip" message="not here">tests/test_warm_up.py:10: not here</skipped></testcase>';
    try {
      parser.write(xml);
    } catch {
      return finish(counted()); // a warm-up must never break a run; the test suite checks it parses in full
    }
    slice += 1;
    setImmediate(next);
  };
  setImmediate(next);
  return { stop: () => void (stopped = true), done };
}
