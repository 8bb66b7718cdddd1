import type { AuditEvent, AuditEventInput, AuditTrail } from '../../audit/audit-chain.js';
import type { AuditFilter, StorageBackend, StoredAuditEvent } from '../../store/types.js';
import { verifyStoredChains, type AuditVerification } from './verify-stored-chains.js';

/** Chain names: one per project for governance events, one per run mirroring its evidence trail. */
export const projectChain = (projectId: string): string => `project:${projectId}`;
export const runChain = (runId: string): string => `run:${runId}`;

export interface ComplianceAuditorOptions {
  /** The chain `append()` writes to, e.g. projectChain('owner/name'). */
  chain: string;
  /** The project the chain belongs to; reports and checkpoints select by it. */
  projectId: string | null;
  clock?: () => Date;
  /** Most events written in one transaction. */
  maxBatch?: number;
}

interface Pending {
  input: AuditEventInput;
  resolve: (event: AuditEvent) => void;
  reject: (error: unknown) => void;
}

/**
 * The durable, append-only audit log. `append()` resolves only once its event is committed, but
 * appends that arrive while a write is in flight share the next transaction (group commit), so
 * many concurrent callers cost few fsyncs.
 */
export class ComplianceAuditor {
  private pending: Pending[] = [];
  private writing: Promise<void> | undefined;
  private readonly clock: () => Date;
  private readonly maxBatch: number;

  constructor(
    private readonly store: StorageBackend,
    private readonly options: ComplianceAuditorOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.maxBatch = options.maxBatch ?? 500;
  }

  append(input: AuditEventInput): Promise<AuditEvent> {
    const stamped = { ...input, at: input.at ?? this.clock().toISOString() };
    return new Promise<AuditEvent>((resolve, reject) => {
      this.pending.push({ input: stamped, resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  /** Resolves once everything appended so far is durable (or has failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        const events = await this.store.appendAudit(
          this.options.chain,
          this.options.projectId,
          batch.map((p) => p.input),
        );
        batch.forEach((p, i) => {
          p.resolve(events[i] as AuditEvent);
        });
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.writing = undefined;
  }

  /**
   * Mirrors a run's in-memory trail into its own chain, event for event, so evidence.json and the
   * store hold the same hashes. Events already in the trail are written first.
   */
  mirror(trail: AuditTrail, chain: string, projectId: string | null = this.options.projectId): TrailMirror {
    const mirror = new TrailMirror(this.store, chain, projectId);
    for (const event of trail.events) mirror.push(event);
    trail.onEvent((event) => mirror.push(event));
    return mirror;
  }

  list(filter: AuditFilter = {}): Promise<StoredAuditEvent[]> {
    return this.store.listAudit(filter);
  }

  /** Checks every chain (or the one given) event by event against its head row. */
  verify(chain?: string): Promise<AuditVerification> {
    return verifyStoredChains(this.store, chain);
  }
}

/** Writes sealed trail events in order, batching those that arrive during a write. */
export class TrailMirror {
  private queue: AuditEvent[] = [];
  private writing: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly store: StorageBackend,
    readonly chain: string,
    private readonly projectId: string | null,
  ) {}

  push(event: AuditEvent): void {
    this.queue.push(event);
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves when every event pushed so far is durable; rejects with the first write failure. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.failure === undefined) {
      const batch = this.queue.splice(0, this.queue.length);
      try {
        await this.store.appendSealedAudit(this.chain, this.projectId, batch);
      } catch (error) {
        // A gap would make every later event unverifiable: stop and let flush() report it.
        this.failure = error;
      }
    }
    this.writing = undefined;
  }
}
