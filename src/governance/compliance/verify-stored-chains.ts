import { GENESIS_HASH, verifyAuditChain } from '../../audit/audit-chain.js';
import type { AuditChainHead, StorageBackend } from '../../store/types.js';

export interface ChainVerification {
  chain: string;
  ok: boolean;
  count: number;
  brokenSeq?: number;
  reason?: string;
}

export interface AuditVerification {
  ok: boolean;
  chains: ChainVerification[];
  /** The first broken chain and seq, for a one-line message. */
  firstBroken?: { chain: string; seq: number; reason: string };
}

const PAGE = 5000;

/**
 * Re-hashes every stored event in seq order and checks it against the chain's head row: a
 * modified, inserted, deleted or reordered event breaks the chain at the seq it touched; events
 * deleted from the end show as a head that is ahead of the last event.
 */
export async function verifyStoredChains(store: StorageBackend, only?: string): Promise<AuditVerification> {
  const heads = (await store.listAuditHeads()).filter((h) => only === undefined || h.chain === only);
  if (only !== undefined && heads.length === 0) {
    return {
      ok: false,
      chains: [{ chain: only, ok: false, count: 0, brokenSeq: 1, reason: `no audit chain named '${only}'` }],
      firstBroken: { chain: only, seq: 1, reason: `no audit chain named '${only}'` },
    };
  }
  const chains: ChainVerification[] = [];
  for (const head of heads) chains.push(await verifyStoredChain(store, head));
  const broken = chains.find((c) => !c.ok);
  return {
    ok: broken === undefined,
    chains,
    ...(broken ? { firstBroken: { chain: broken.chain, seq: broken.brokenSeq ?? 0, reason: broken.reason ?? '' } } : {}),
  };
}

/**
 * Re-hashes one chain from seq 1 up to `head` (as read before). Events appended while it reads (a
 * running bot, another replica) are past that head; they count as appended, not inserted, when the
 * chain's head has moved over them by then.
 */
export async function verifyStoredChain(store: StorageBackend, head: Pick<AuditChainHead, 'chain' | 'seq' | 'hash'>): Promise<ChainVerification> {
  const { chain, seq: headSeq, hash: headHash } = head;
  let nextSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  let afterSeq = 0;
  for (;;) {
    const page = await store.listAudit({ chain, afterSeq, limit: PAGE });
    if (page.length === 0) break;
    const past = page.findIndex((event) => event.seq > headSeq);
    const within = past === -1 ? page : page.slice(0, past);
    if (within.length > 0) {
      const check = verifyAuditChain(within, nextSeq, prevHash);
      if (!check.ok) return { chain, ok: false, count, brokenSeq: check.brokenSeq, reason: check.reason };
      const last = within[within.length - 1]!;
      count += within.length;
      nextSeq = last.seq + 1;
      prevHash = last.hash;
      afterSeq = last.seq;
    }
    if (past !== -1) {
      const lastSeen = page[page.length - 1]!.seq;
      const now = (await store.listAuditHeads()).find((h) => h.chain === chain);
      if (now && now.seq >= lastSeen && now.seq > headSeq) break;
      return {
        chain,
        ok: false,
        count,
        brokenSeq: headSeq + 1,
        reason: `seq ${headSeq + 1} is past the chain head (seq ${headSeq}): an event was inserted at the end`,
      };
    }
  }
  if (nextSeq - 1 < headSeq) {
    return {
      chain,
      ok: false,
      count,
      brokenSeq: nextSeq,
      reason: `expected seq ${nextSeq} (the head says the chain ends at seq ${headSeq}), found none: events were deleted`,
    };
  }
  if (prevHash !== headHash)
    return { chain, ok: false, count, brokenSeq: headSeq, reason: `seq ${headSeq} does not match the hash recorded in the chain head` };
  return { chain, ok: true, count };
}
