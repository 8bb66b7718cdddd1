import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { JUnitSummary } from './junit-report.js';

type Settled = { summary: JUnitSummary } | { error: unknown };

/** What identifies one version of a file: a rewrite changes its modification time or size. */
type FileVersion = { ino: bigint; size: bigint; mtimeNs: bigint };

const versionOf = async (file: string): Promise<FileVersion | undefined> => {
  try {
    const { ino, size, mtimeNs } = await stat(file, { bigint: true });
    return { ino, size, mtimeNs };
  } catch {
    return undefined;
  }
};

/**
 * Parses pytest's JUnit report while pytest is still shutting down. pytest prints
 * `generated xml file: PATH` after it has written and closed the report, then spends tens of
 * milliseconds on its closing summary and interpreter shut-down (~90 ms per 1,000 tests,
 * bench/results/core.md): parsing then keeps the parse out of the time qf adds after pytest ends.
 *
 * The early result is used only if the file is the same one after pytest exits (same inode, size
 * and nanosecond modification time); otherwise, or when pytest never printed the line (`-q`), the
 * report is parsed after the exit as before.
 */
export class EarlyReportParse {
  private readonly announcement: string;
  private recent = '';
  private started: Promise<{ version: FileVersion | undefined; settled: Settled }> | undefined;

  constructor(
    private readonly reportPath: string,
    private readonly parse: (file: string) => Promise<JUnitSummary>,
  ) {
    // pytest prints the path made absolute and normalised.
    this.announcement = `generated xml file: ${path.resolve(reportPath)}`;
  }

  /** Feed pytest's stdout as it comes; returns true when the parse starts on this chunk. */
  onStdout(chunk: string): boolean {
    if (this.started) return false;
    // The line may be split between chunks: keep just enough of the previous one.
    const text = this.recent + chunk;
    if (!text.includes(this.announcement)) {
      this.recent = text.slice(-this.announcement.length);
      return false;
    }
    this.started = (async () => {
      const version = await versionOf(this.reportPath);
      try {
        return { version, settled: { summary: await this.parse(this.reportPath) } };
      } catch (error) {
        return { version, settled: { error } }; // never rejects: a run that ends early may not ask
      }
    })();
    return true;
  }

  /**
   * After pytest has exited: the early parse's summary (or the error it threw) if the report is
   * unchanged since, else undefined, and the caller parses it now.
   */
  async result(): Promise<Settled | undefined> {
    if (!this.started) return undefined;
    const { version, settled } = await this.started;
    const now = await versionOf(this.reportPath);
    const unchanged = version && now && version.ino === now.ino && version.size === now.size && version.mtimeNs === now.mtimeNs;
    return unchanged ? settled : undefined;
  }
}
