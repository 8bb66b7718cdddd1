import { describe, expect, it } from 'vitest';
import { auditStatus } from '../../../bot/dashboard/render-overview.js';

const VERIFIED = { chain: 'project:acme/widgets', count: 30000, throughSeq: 30000, verifiedAt: '2026-12-02T04:00:00.000Z', durationMs: 812.4 };

describe('the overview line of the audit chain (the background verifier result)', () => {
  it.each([
    ['before any verification finished', undefined, 'verification pending'],
    ['intact', { ...VERIFIED, ok: true }, 'verified 30000 events through #30000 at 2026-12-02T04:00:00.000Z (took 812 ms): intact'],
    [
      'broken: the break first',
      { ...VERIFIED, ok: false, count: 11, brokenSeq: 12, reason: 'hash does not match the content of seq 12', durationMs: 1500 },
      'BROKEN at #12: hash does not match the content of seq 12; verified 11 events through #30000 at 2026-12-02T04:00:00.000Z (took 1.5 s)',
    ],
  ])('%s', (_case, status, line) => {
    expect(auditStatus(status)).toBe(line);
  });
});
