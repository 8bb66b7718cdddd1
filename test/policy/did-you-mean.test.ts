import { describe, expect, it } from 'vitest';
import { didYouMean } from '../../src/policy/did-you-mean.js';

describe('didYouMean', () => {
  it.each<[string, readonly string[], string | undefined]>([
    ['sandbx', ['version', 'sandbox', 'budget'], 'sandbox'],
    ['timeout_secs', ['mode', 'timeout_seconds', 'env_allowlist'], 'timeout_seconds'],
    ['MODE', ['mode', 'gate'], 'mode'],
    ['run_pytests', ['run_pytest', 'run_command'], 'run_pytest'],
    ['coverage', ['version', 'sandbox', 'budget'], undefined],
    ['x', [], undefined],
  ])('%s among %j → %s', (input, candidates, expected) => {
    expect(didYouMean(input, candidates)).toBe(expected);
  });
});
