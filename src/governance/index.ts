/**
 * Governance: PSMP artifacts and conflicts, checkpoints, the durable audit log and compliance
 * reports, and the SecureGateway in front of every LLM call.
 */
export { ComplianceAuditor, TrailMirror, projectChain, runChain, type ComplianceAuditorOptions } from './compliance/compliance-auditor.js';
export type { AuditVerification, ChainVerification } from './compliance/verify-stored-chains.js';
export { PsmpEngine, type PsmpEngineOptions } from './psmp/psmp-engine.js';
export { detectConflicts, findConflictsFor, findCycle } from './psmp/detect-conflicts.js';
export { buildBlockingReport } from './psmp/blocking-report.js';
export { ArtifactIndex, parseDependency } from './psmp/artifact-index.js';
export type {
  ArtifactDeclaration,
  AuditSink,
  BlockedArtifact,
  BlockingDecision,
  BlockingReport,
  DeclareResult,
  DetectedConflict,
  GovernanceMode,
  ResolutionInput,
} from './psmp/types.js';
export { createCheckpoint, listCheckpoints, readCheckpoint, restoreCheckpoint, type CheckpointOptions } from './checkpoint/checkpoints.js';
export {
  SecureGateway,
  type CompletionResult,
  type GatewayDecision,
  type LlmTask,
  type Provider,
  type VetoCode,
  type VetoHook,
  type VetoHookKind,
  type VetoReason,
  type VetoRecord,
  type SecureGatewayOptions,
} from './gateway/secure-gateway.js';
export { fileResponseCache, memoryResponseCache, type ResponseCache } from './gateway/response-cache.js';
export { classifySensitivity, type Classification, type ClassifyInput } from './gateway/classify-sensitivity.js';
export { ROUTING_POLICIES, SENSITIVITY_ORDER, type Route, type RoutingPolicyName } from './gateway/routing-policies.js';
export type { ChatMessage } from './gateway/openai-client.js';
export { buildComplianceReport, type ComplianceReport } from './compliance/compliance-report.js';
export { renderComplianceReport, type ReportFormat } from './compliance/render-compliance-report.js';
export { verifyStoredChain, verifyStoredChains } from './compliance/verify-stored-chains.js';
