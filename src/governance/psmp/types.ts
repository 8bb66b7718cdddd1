import type { AuditEventInput } from '../../audit/audit-chain.js';
import type { Policy } from '../../policy/schema.js';
import type { ArtifactRecord, ConflictKind, ConflictRecord, Strategy } from '../../store/types.js';

/** STRICT: any conflict blocks. ADAPTIVE: low-risk conflicts auto-OVERRIDE, the rest escalate. PLAYGROUND: record, never block. */
export type GovernanceMode = Policy['mode'];

/** Where governance decisions are audited: ComplianceAuditor.append, or AuditTrail.record. */
export type AuditSink = (event: AuditEventInput) => unknown;

/** One tool result, declared by whoever produced it. */
export interface ArtifactDeclaration {
  projectId: string;
  runId?: string | null;
  /** What it is: `pytest.report`, `coverage`, `gate.decision`, … */
  type: string;
  /** Who produced it: a step id or tool name. */
  producer: string;
  iteration: number;
  /**
   * The version the producer believes it is writing (latest + 1). Omit to take the next one; a
   * stale value is a version conflict (someone else wrote in between).
   */
  version?: number;
  /** Types this artifact was built from; `type@3` pins a version. */
  dependsOn?: string[];
  /** sha256 of the content. */
  digest: string;
  /** Where the content lives, e.g. a path relative to the evidence folder. */
  ref?: string | null;
}

/** A conflict found for a candidate artifact, before the mode decides its status. */
export interface DetectedConflict {
  kind: ConflictKind;
  /** Stable within a project: equal findings get the same conflict id. */
  key: string;
  artifactIds: string[];
  message: string;
  details: Record<string, unknown>;
  lowRisk: boolean;
}

export interface DeclareResult {
  artifact: ArtifactRecord;
  /** True when the same producer declared the same content again: nothing new was written. */
  unchanged: boolean;
  /** Conflicts raised by this declaration, with the status the mode gave them. */
  conflicts: ConflictRecord[];
  /** Earlier conflicts this declaration closed (a missing dependency now present, a RETRY done). */
  closed: ConflictRecord[];
}

export interface ResolutionInput {
  strategy: Strategy;
  /** Who decided (a login); recorded and audited. */
  by: string;
  reason: string;
  /** OVERRIDE: the artifact that wins; defaults to the newest in the conflict. */
  winner?: string;
  /** MERGE: the digest (and where) of the manually merged content. */
  mergedDigest?: string;
  mergedRef?: string;
}

export type BlockingDecision = 'proceed' | 'blocked' | 'waiting_for_human';

export interface BlockedArtifact {
  artifactId: string;
  type: string;
  producer: string;
  version: number;
  /** Ids of the unresolved conflicts that block it. */
  blockedBy: string[];
  /** Set when it is blocked only because it depends on a blocked type. */
  viaDependency?: string;
}

export interface BlockingReport {
  mode: GovernanceMode;
  decision: BlockingDecision;
  /** Whether the run must stop here (never in PLAYGROUND). */
  blocked: boolean;
  /** Whether STRICT would have blocked: PLAYGROUND reports what it let through. */
  wouldBlock: boolean;
  unresolved: ConflictRecord[];
  blockedArtifacts: BlockedArtifact[];
  reasons: string[];
}
