import { describe, expect, it } from 'vitest';
import { byteLength, fitSections, truncateBytes, truncateChars } from '../../src/github/limits.js';

describe('truncateBytes', () => {
  it('never splits a multi-byte character', () => {
    expect(truncateBytes('aé€😀', 1)).toBe('a');
    expect(truncateBytes('aé€😀', 2)).toBe('a');
    expect(truncateBytes('aé€😀', 3)).toBe('aé');
    expect(truncateBytes('aé€😀', 9)).toBe('aé€');
    expect(truncateBytes('aé€😀', 10)).toBe('aé€😀');
  });
});

describe('truncateChars', () => {
  it('cuts to the limit with an ellipsis, not inside a surrogate pair', () => {
    expect(truncateChars('x'.repeat(300), 255)).toHaveLength(255);
    expect(truncateChars('ab😀', 3)).toBe('ab…');
  });
});

describe('fitSections', () => {
  const sections = [
    { priority: 2, markdown: `### Failures\n${Array.from({ length: 5000 }, (_, i) => `- test_${i} failed`).join('\n')}` },
    { priority: 0, markdown: '## Failed' },
    { priority: 1, markdown: '### Gate rules\n| tests-pass | 120 | == 0 |' },
    { priority: 3, markdown: '### Notes\n- Evidence: artifact' },
  ];

  it('keeps everything when it fits', () => {
    expect(fitSections(sections.slice(1), 65535, 'see artifact').text).toBe(
      '## Failed\n\n### Gate rules\n| tests-pass | 120 | == 0 |\n\n### Notes\n- Evidence: artifact',
    );
  });

  it('cuts in priority order at a line end, drops what follows, and points to the artifact', () => {
    const { text, omitted } = fitSections(sections, 2000, 'Full evidence: artifact `qf` (id 7).');
    expect(byteLength(text)).toBeLessThanOrEqual(2000);
    expect(text.startsWith('## Failed\n\n### Gate rules')).toBe(true);
    expect(text).toMatch(/- test_\d+ failed\n\n> ✂️ Cut to fit GitHub's limit of 2000 bytes\. Full evidence: artifact `qf` \(id 7\)\.$/);
    expect(text).not.toContain('### Notes');
    expect(omitted).toBe(2);
  });

  it('stays within 65535 bytes for a summary of multi-byte text', () => {
    const { text } = fitSections([{ priority: 0, markdown: '€'.repeat(40000) }], 65535, 'x');
    expect(byteLength(text)).toBeLessThanOrEqual(65535);
  });
});
