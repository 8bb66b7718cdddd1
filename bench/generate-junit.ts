import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Writes a pytest-style JUnit report (xunit1 attributes: classname, name, file, line, time) of
 * `count` test cases: ~5% failures with escaped tracebacks ending `path:line: AssertionError`, ~2%
 * skips, ~0.5% setup errors, the rest passes. Deterministic for a given count.
 */
export async function generateJUnitReport(file: string, count = 100_000): Promise<{ bytes: number; failures: number; errors: number; skipped: number }> {
  const out = createWriteStream(file, { encoding: 'utf8' });
  let bytes = 0;
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  let buffer = '';
  const write = async (text: string) => {
    buffer += text;
    if (buffer.length > 1 << 16) {
      bytes += Buffer.byteLength(buffer);
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  };
  const body: string[] = [];
  const seeded = (i: number) => ((i * 2654435761) >>> 0) % 1000;
  for (let i = 0; i < count; i++) {
    const r = seeded(i);
    if (r < 50) failures++;
    else if (r < 55) errors++;
    else if (r < 75) skipped++;
  }
  await write(
    `<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="${errors}" failures="${failures}" skipped="${skipped}" tests="${count}" time="${(count * 0.002).toFixed(3)}" timestamp="2026-01-01T00:00:00.000000+00:00" hostname="bench">`,
  );
  body.length = 0;
  for (let i = 0; i < count; i++) {
    const module = `test_module_${String(Math.floor(i / 500)).padStart(3, '0')}`;
    const file = `tests/pkg_${Math.floor(i / 5000)}/${module}.py`;
    const classname = `tests.pkg_${Math.floor(i / 5000)}.${module}${i % 7 === 0 ? '.TestGroup' : ''}`;
    const line = (i % 500) * 6 + 3;
    const name = i % 11 === 0 ? `test_case_${i}[param-${i % 5}]` : `test_case_${i}`;
    const open = `<testcase classname="${classname}" name="${name}" file="${file}" line="${line}" time="${((i % 97) / 10_000).toFixed(4)}"`;
    const r = seeded(i);
    if (r < 50) {
      const message = `AssertionError: assert ${i} == ${i + 1}&#10;  +  where ${i} = compute(&apos;x&apos;)`;
      const traceback = `def ${name.replace(/\[.*/, '')}():\n        value = compute(&quot;x&quot;)\n&gt;       assert value == ${i + 1}\nE       AssertionError: assert ${i} == ${i + 1}\nE        +  where ${i} = compute('x')\n\n${file}:${line + 3}: AssertionError`;
      await write(`${open}><failure message="${message}">${traceback}</failure></testcase>`);
    } else if (r < 55) {
      await write(
        `${open}><error message="failed on setup with &quot;ConnectionError: db refused&quot;">@pytest.fixture\n    def db():\n&gt;       raise ConnectionError(&quot;db refused&quot;)\nE       ConnectionError: db refused\n\ntests/conftest.py:12: ConnectionError</error></testcase>`,
      );
    } else if (r < 75) {
      await write(`${open}><skipped type="pytest.skip" message="needs a GPU">/abs/${file}:${line + 1}: needs a GPU</skipped></testcase>`);
    } else {
      await write(`${open} />`);
    }
  }
  await write('</testsuite></testsuites>\n');
  bytes += Buffer.byteLength(buffer);
  out.end(buffer);
  await once(out, 'finish');
  return { bytes, failures, errors, skipped };
}

// `node --import tsx bench/generate-junit.ts FILE [COUNT]`
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [file, count] = process.argv.slice(2);
  if (!file) throw new Error('usage: generate-junit.ts FILE [COUNT]');
  console.log(JSON.stringify(await generateJUnitReport(file, count ? Number(count) : undefined)));
}
