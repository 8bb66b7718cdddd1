import type { Evidence } from '../evidence/schema.js';

/** For a `qf run --head` run: which commit was tested, and that it was a clean checkout, in one sentence. */
export function checkoutNote(change: Evidence['change']): string | undefined {
  if (!change?.checkout || !change.head) return undefined; // partial evidence (a test, an old bundle) has none
  const base = change.base ? `; changes since ${change.base.slice(0, 12)} (--base ${change.checkout.base})` : '';
  return `Tested commit ${change.head.slice(0, 12)} (--head ${change.checkout.head}) in a clean temporary checkout${base}.`;
}
