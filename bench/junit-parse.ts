/**
 * Parses a generated 100,000-case pytest JUnit report with our streaming parser and with a DOM parse
 * (fast-xml-parser), each repetition in its own child process so peak RSS is per parser.
 *
 *   node --import tsx bench/junit-parse.ts [--count 100000] [--reps 5]
 *
 * A child prints {ms, maxRssMb, total, failed}: ms is the parse alone (the file is read by the
 * parser: ours streams it, the DOM parse reads it whole first), maxRssMb is the process's peak.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { generateJUnitReport } from './generate-junit.js';

type Parser = 'ours' | 'fast-xml-parser' | 'baseline';
interface Sample {
  ms: number;
  maxRssMb: number;
  total: number;
  failed: number;
}

async function child(parser: Parser, file: string): Promise<void> {
  let result: Omit<Sample, 'maxRssMb'>;
  if (parser === 'ours') {
    const { parseJUnitReport } = await import('../src/tools/junit-report.js');
    const started = performance.now();
    const summary = await parseJUnitReport(file);
    result = { ms: performance.now() - started, total: summary.counts.total, failed: summary.counts.failed };
  } else if (parser === 'fast-xml-parser') {
    const { XMLParser } = await import('fast-xml-parser');
    const started = performance.now();
    const xml = await readFile(file, 'utf8');
    const dom = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' || name === 'testsuite' }).parse(
      xml,
    ) as {
      testsuites: { testsuite: Array<{ testcase: Array<Record<string, unknown>> }> };
    };
    let total = 0;
    let failed = 0;
    for (const suite of dom.testsuites.testsuite) {
      for (const testcase of suite.testcase) {
        total++;
        if (testcase.failure !== undefined) failed++;
      }
    }
    result = { ms: performance.now() - started, total, failed };
  } else {
    result = { ms: 0, total: 0, failed: 0 };
  }
  // maxRSS is in KiB.
  console.log(JSON.stringify({ ...result, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function parent(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number) => {
    const index = args.indexOf(name);
    return index >= 0 ? Number(args[index + 1]) : fallback;
  };
  const count = option('--count', 100_000);
  const reps = option('--reps', 5);
  const file = path.join(os.tmpdir(), `qf-bench-junit-${count}.xml`);
  const generated = await generateJUnitReport(file, count);
  const size = (await stat(file)).size;
  console.log(
    `report: ${file}, ${count} test cases, ${(size / 1024 / 1024).toFixed(1)} MB (${generated.failures} failures, ${generated.errors} errors, ${generated.skipped} skipped)`,
  );

  const self = fileURLToPath(import.meta.url);
  const run = promisify(execFile);
  const samples: Record<Parser, Sample[]> = { ours: [], 'fast-xml-parser': [], baseline: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const parser of ['ours', 'fast-xml-parser', 'baseline'] as const) {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', self, '--child', parser, file], { maxBuffer: 1 << 20 });
      samples[parser].push(JSON.parse(stdout.trim().split('\n').at(-1)!) as Sample);
    }
  }
  console.log(`\n${reps} repetitions each, alternating, one child process per repetition; medians:\n`);
  console.log('| parser | parse time | peak RSS | test cases | failures |');
  console.log('|---|---|---|---|---|');
  for (const parser of ['ours', 'fast-xml-parser', 'baseline'] as const) {
    const list = samples[parser];
    const label =
      parser === 'ours' ? 'qf parseJUnitReport (saxes, streaming)' : parser === 'baseline' ? 'empty child (node + tsx, no parse)' : 'fast-xml-parser (DOM)';
    console.log(
      `| ${label} | ${median(list.map((s) => s.ms)).toFixed(0)} ms | ${median(list.map((s) => s.maxRssMb)).toFixed(0)} MB | ${list[0]!.total} | ${list[0]!.failed} |`,
    );
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Parser, process.argv[4]!);
else await parent();
