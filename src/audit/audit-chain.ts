import { digestOf } from '../util/canonical-json.js';

/**
 * One tamper-evident audit event. `hash` covers every other field including `prevHash`, so
 * changing, inserting, deleting or reordering an event breaks the chain at that point.
 */
export interface AuditEvent {
  seq: number;
  /** ISO-8601 timestamp. */
  at: string;
  /** Who caused it: a user login, `qf`, `orchestrator`, `gateway`, … */
  actor: string;
  /** What happened, dotted: `transition`, `tool.refused`, `approval.recorded`, `gate.decided`, … */
  action: string;
  /** What it happened to: a run id, `owner/repo#12`, a plan hash, … */
  subject: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditEventInput = Pick<AuditEvent, 'actor' | 'action' | 'subject'> & {
  data?: Record<string, unknown>;
  at?: string;
};

export const GENESIS_HASH = '0'.repeat(64);

export function hashAuditEvent(event: Omit<AuditEvent, 'hash'>): string {
  const { seq, at, actor, action, subject, data, prevHash } = event;
  return digestOf({ seq, at, actor, action, subject, data, prevHash });
}

/** Builds the next event of a chain whose last event is `previous` (or none). */
export function chainEvent(previous: AuditEvent | undefined, input: AuditEventInput, now: Date): AuditEvent {
  const unsealed = {
    seq: previous ? previous.seq + 1 : 1,
    at: input.at ?? now.toISOString(),
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    data: input.data ?? {},
    prevHash: previous ? previous.hash : GENESIS_HASH,
  };
  return { ...unsealed, hash: hashAuditEvent(unsealed) };
}

export type ChainCheck = { ok: true; count: number } | { ok: false; brokenSeq: number; reason: string };

/**
 * Checks a chain in order. Names the first seq at which it breaks: a gap or reorder in `seq`,
 * a `prevHash` that is not the previous event's hash, or a `hash` that does not match the content.
 */
export function verifyAuditChain(events: readonly AuditEvent[], startSeq = 1, startPrevHash = GENESIS_HASH): ChainCheck {
  let expectedSeq = startSeq;
  let expectedPrev = startPrevHash;
  for (const event of events) {
    if (event.seq !== expectedSeq) {
      return { ok: false, brokenSeq: expectedSeq, reason: `expected seq ${expectedSeq}, found ${event.seq}` };
    }
    if (event.prevHash !== expectedPrev) {
      return { ok: false, brokenSeq: event.seq, reason: `prevHash does not match the hash of seq ${event.seq - 1}` };
    }
    if (hashAuditEvent(event) !== event.hash) {
      return { ok: false, brokenSeq: event.seq, reason: `hash does not match the content of seq ${event.seq}` };
    }
    expectedPrev = event.hash;
    expectedSeq += 1;
  }
  return { ok: true, count: events.length };
}

/** An in-memory chain for one run; the orchestrator appends, evidence.json carries it. */
export class AuditTrail {
  readonly events: AuditEvent[] = [];
  private readonly listeners: Array<(event: AuditEvent) => void> = [];

  constructor(
    private readonly clock: () => Date = () => new Date(),
    /** Events of an earlier part of the same run (resuming from a checkpoint). */
    previous: readonly AuditEvent[] = [],
  ) {
    this.events.push(...previous);
  }

  record(input: AuditEventInput): AuditEvent {
    const event = chainEvent(this.events.at(-1), input, this.clock());
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Lets a durable store (ComplianceAuditor) mirror every event as it happens. */
  onEvent(listener: (event: AuditEvent) => void): void {
    this.listeners.push(listener);
  }
}
