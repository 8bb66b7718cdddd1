/** A result letter pytest prints per test: pass, fail, error, skip, xfail, xpass. `u` (a subtest) is not a test. */
const RESULT_LETTERS = /[.FEsxX]/g;
/** The start of a non-verbose progress line: the test file's path, then a space (`tests/test_x.py ..F`). */
const FILE_LINE = /^\S+\.py $/;
/** A verbose result line: `tests/test_x.py::test_y PASSED` (with or without a `[ 50%]` tail). */
const VERBOSE_RESULT = /^\S+\.py::\S.* (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b/;

/**
 * Counts the tests pytest has finished so far from its terminal output, as it streams, for a live
 * status line. It reads what pytest prints anyway (a letter per test, or a line per test with -v),
 * so it costs pytest nothing; it is a progress hint, never evidence (the JUnit report is).
 */
export class PytestProgress {
  private done = 0;
  /** The current line up to the first space, while it may still turn out to be a progress line. */
  private head = '';
  private inProgressLine = false;
  private line = '';

  get testsDone(): number {
    return this.done;
  }

  onStdout(chunk: string): void {
    for (const piece of chunk.split(/(\n)/)) {
      if (piece === '\n') {
        if (VERBOSE_RESULT.test(this.line)) this.done += 1;
        this.head = '';
        this.line = '';
        this.inProgressLine = false;
        continue;
      }
      if (this.line.length < 4_096) this.line += piece;
      if (this.inProgressLine) {
        this.done += piece.match(RESULT_LETTERS)?.length ?? 0;
        continue;
      }
      const space = piece.indexOf(' ');
      if (space === -1) {
        if (this.head.length < 4_096) this.head += piece;
        continue;
      }
      this.head += piece.slice(0, space + 1);
      if (FILE_LINE.test(this.head)) {
        this.inProgressLine = true;
        this.done += piece.slice(space + 1).match(RESULT_LETTERS)?.length ?? 0;
      } else {
        this.head = '\u0000'; // not a progress line: nothing more to look for until the newline
      }
    }
  }
}
