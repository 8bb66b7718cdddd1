import { describe, expect, it } from 'vitest';
import { checkAssertion, runScore } from '../../../src/tools/evals/check-assertion.js';
import { AssertionSchema, type LocalAssertion } from '../../../src/tools/evals/suite-schema.js';
import { rougeL, tokenF1 } from '../../../src/tools/evals/text-similarity.js';

const measured = { latencyMs: 40, tokens: 120, costUsd: 0.002 };

function check(assertion: Record<string, unknown>, output: unknown, expected?: unknown) {
  const result = checkAssertion(AssertionSchema.parse(assertion) as LocalAssertion, output, expected, measured);
  return [result.passed, result.message];
}

describe('checkAssertion', () => {
  it.each([
    ['equals the expected value, as JSON', { type: 'equals' }, { b: 1, a: [2] }, { a: [2], b: 1 }, [true, 'equals {"a":[2],"b":1}']],
    ['equals: a different value', { type: 'equals', value: 'Paris' }, 'paris', undefined, [false, 'expected "Paris", got "paris"']],
    ['equals without a reference', { type: 'equals' }, 'x', undefined, [false, 'equals: no `value` given and the case has no `expected`']],
    ['contains', { type: 'contains', value: 'Par' }, 'Paris', undefined, [true, 'contains "Par"']],
    ['contains, ignoring case', { type: 'contains', value: 'PAR', ignore_case: true }, 'Paris', undefined, [true, 'contains "PAR"']],
    ['contains: missing', { type: 'contains', value: 'Rome' }, 'Paris', undefined, [false, 'not: contains "Rome" (output "Paris")']],
    ['not-contains', { type: 'not-contains', value: 'sorry' }, 'Paris', undefined, [true, 'not-contains "sorry"']],
    ['not-contains: present', { type: 'not-contains', value: 'sorry' }, 'I am sorry', undefined, [false, 'not: not-contains "sorry" (output "I am sorry")']],
    ['contains in JSON output', { type: 'contains', value: '"city"' }, { city: 'Paris' }, undefined, [true, 'contains "\\"city\\""']],
    ['regex', { type: 'regex', pattern: '^\\d{4}-\\d{2}$' }, '2024-05', undefined, [true, 'matches /^\\d{4}-\\d{2}$/']],
    ['regex with flags', { type: 'regex', pattern: '^paris$', flags: 'i' }, 'PARIS', undefined, [true, 'matches /^paris$/']],
    ['regex: no match', { type: 'regex', pattern: '^\\d+$' }, 'abc', undefined, [false, 'does not match /^\\d+$/ (output "abc")']],
    [
      'regex: invalid pattern',
      { type: 'regex', pattern: '(' },
      'abc',
      undefined,
      [false, expect.stringMatching(/^regex \/\(\/ is not a valid regular expression: /)],
    ],
    ['is-json: a JSON string', { type: 'is-json' }, '{"a":1}', undefined, [true, 'is JSON']],
    ['is-json: a value', { type: 'is-json' }, { a: 1 }, undefined, [true, 'is JSON']],
    ['is-json: not JSON', { type: 'is-json' }, 'not json', undefined, [false, expect.stringMatching(/^not JSON: /)]],
    [
      'json-schema',
      { type: 'json-schema', schema: { type: 'object', required: ['city'], properties: { city: { type: 'string' } } } },
      '{"city":"Paris"}',
      undefined,
      [true, 'valid against the JSON Schema'],
    ],
    [
      'json-schema: invalid',
      { type: 'json-schema', schema: { type: 'object', properties: { city: { type: 'string' } } } },
      { city: 3 },
      undefined,
      [false, 'not valid against the JSON Schema: /city must be string'],
    ],
    [
      'json-schema: a broken schema',
      { type: 'json-schema', schema: { type: 'nonsense' } },
      {},
      undefined,
      [false, expect.stringMatching(/^the assertion's JSON Schema is not valid: /)],
    ],
    ['json-path', { type: 'json-path', path: '$.answer.city', equals: 'Paris' }, { answer: { city: 'Paris' } }, undefined, [true, '$.answer.city = "Paris"']],
    ['json-path: other value', { type: 'json-path', path: '$.items[1]', equals: 2 }, '{"items":[1,3]}', undefined, [false, '$.items[1]: expected 2, got 3']],
    ['json-path: nothing there', { type: 'json-path', path: '$.nope', equals: 1 }, {}, undefined, [false, '$.nope: expected 1, got undefined']],
    [
      'json-path: a script expression is not evaluated',
      { type: 'json-path', path: '$[?(@.constructor.constructor("return process")().exit())]', equals: 1 },
      [{ a: 1 }],
      undefined,
      [false, expect.stringMatching(/^json-path .*: /)],
    ],
    ['within', { type: 'within', tolerance: 0.01 }, 2.005, 2, [true, '2.005 is within 0.01 of 2']],
    ['within: a JSON number string', { type: 'within', value: 10, tolerance: 1 }, '10.5', undefined, [true, '10.5 is within 1 of 10']],
    ['within: too far', { type: 'within', value: 10, tolerance: 1 }, 12, undefined, [false, '12 is not within 1 of 10']],
    ['within: not a number', { type: 'within', value: 10, tolerance: 1 }, 'ten', undefined, [false, 'within: the output "ten" is not a number']],
    ['latency-ms', { type: 'latency-ms', max: 50 }, 'x', undefined, [true, 'latency 40 ms ≤ 50 ms']],
    ['latency-ms: too slow', { type: 'latency-ms', max: 10 }, 'x', undefined, [false, 'latency 40 ms > 10 ms']],
    ['tokens', { type: 'tokens', max: 100 }, 'x', undefined, [false, 'tokens 120 > 100']],
    ['cost-usd', { type: 'cost-usd', max: 0.01 }, 'x', undefined, [true, 'cost 0.002 USD ≤ 0.01 USD']],
    ['similarity (token F1)', { type: 'similarity', threshold: 0.5 }, 'The capital is Paris, France.', 'Paris is the capital', [true, 'token-f1 0.889 ≥ 0.5']],
    ['similarity (ROUGE-L): too far', { type: 'similarity', method: 'rouge-l', value: 'a b c d' }, 'd c b a', undefined, [false, 'rouge-l 0.250 < 0.8']],
    ['a failed assertion says its description', { type: 'equals', value: 1, description: 'the sum' }, 2, undefined, [false, 'the sum: expected 1, got 2']],
  ])('%s', (_name, assertion, output, expected, want) => {
    expect(check(assertion, output, expected)).toEqual(want);
  });

  it('lets a threshold of 0 make a binary assertion informational', () => {
    const result = checkAssertion(AssertionSchema.parse({ type: 'equals', value: 1, threshold: 0 }) as LocalAssertion, 2, undefined, measured);
    expect([result.passed, result.score]).toEqual([true, 0]);
  });
});

describe('runScore', () => {
  const result = (passed: boolean, weight: number) => ({ type: 'equals' as const, weight, score: passed ? 1 : 0, passed, message: '' });
  it('is the weighted share of passed assertions; weight 0 counts for nothing; none at all scores 1', () => {
    expect(runScore([result(true, 3), result(false, 1)])).toBe(0.75);
    expect(runScore([result(true, 1), result(false, 0)])).toBe(1);
    expect(runScore([])).toBe(1);
  });
});

describe('similarity measures', () => {
  it('computes token F1 and ROUGE-L over lower-case word tokens', () => {
    expect(tokenF1('Paris', 'paris!')).toBe(1);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('a b', 'c d')).toBe(0);
    expect(tokenF1('the cat sat', 'the cat')).toBeCloseTo(0.8);
    // LCS of "a b c d" and "a c b d" is 3 tokens long: P = R = 3/4.
    expect(rougeL('a b c d', 'a c b d')).toBeCloseTo(0.75);
    expect(rougeL('x', '')).toBe(0);
  });
});
