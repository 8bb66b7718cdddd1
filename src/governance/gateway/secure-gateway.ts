import type { AuditEventInput } from '../../audit/audit-chain.js';
import type { GatewayPolicy, Sensitivity } from '../../policy/schema.js';
import type { AuditSink } from '../psmp/types.js';
import { classifySensitivity, type Classification } from './classify-sensitivity.js';
import { chatCompletion, type ChatMessage } from './openai-client.js';
import { ROUTING_POLICIES, type ProviderKind } from './routing-policies.js';

export type Provider = GatewayPolicy['providers'][number];

/** One LLM task: what it is about decides how sensitive it is. */
export interface LlmTask {
  id: string;
  purpose: string;
  messages: ChatMessage[];
  changedFiles?: string[];
  labels?: string[];
  /** A level the caller asserts; policy rules may raise it. */
  level?: Sensitivity;
  /** Ask for a provider by name; vetoed if the routing policy does not allow its kind. */
  provider?: string;
  maxTokens?: number;
}

export type VetoCode = 'PROVIDER_NOT_ALLOWED' | 'UNKNOWN_PROVIDER' | 'NO_ALLOWED_PROVIDER' | 'NODE_VETOED' | 'MESSAGE_VETOED' | 'TRANSITION_VETOED';

export interface VetoReason {
  code: VetoCode;
  message: string;
  level?: Sensitivity;
  provider?: string;
  hook?: string;
}

export type GatewayDecision =
  | { allowed: true; level: Sensitivity; provider: Provider; classification: Classification }
  | { allowed: false; level: Sensitivity; veto: VetoReason; classification: Classification };

export type VetoHookKind = 'node' | 'message' | 'transition';
export interface VetoHook {
  name: string;
  on: VetoHookKind;
  /** Returns why it vetoes, or undefined to let it pass. */
  check(subject: { node?: string; message?: ChatMessage; from?: string; to?: string; taskId?: string }): string | undefined;
}

export type CompletionResult =
  | { ok: true; level: Sensitivity; provider: string; content: string; usage: { promptTokens: number; completionTokens: number } }
  | { ok: false; level: Sensitivity; veto: VetoReason };

const HOOK_CODE: Record<VetoHookKind, VetoCode> = { node: 'NODE_VETOED', message: 'MESSAGE_VETOED', transition: 'TRANSITION_VETOED' };

/**
 * The only way to an LLM. Classifies each task, routes it to a provider its level allows, runs
 * the veto hooks, and audits every decision. A vetoed task never reaches any provider.
 */
export class SecureGateway {
  private readonly hooks: VetoHook[] = [];
  private readonly fetchImpl: typeof fetch;
  private readonly clock: () => Date;

  constructor(private readonly options: { policy: GatewayPolicy; audit: AuditSink; fetch?: typeof fetch; clock?: () => Date; actor?: string }) {
    this.fetchImpl = options.fetch ?? fetch;
    this.clock = options.clock ?? (() => new Date());
  }

  addVetoHook(hook: VetoHook): void {
    this.hooks.push(hook);
  }

  /** Allowed provider kinds and the recommended provider for a level under the policy's routing. */
  route(level: Sensitivity): { allowed: ProviderKind[]; recommended: Provider | undefined } {
    const route = ROUTING_POLICIES[this.options.policy.routing][level];
    const providers = this.options.policy.providers;
    const recommended = providers.find((p) => p.kind === route.recommended) ?? providers.find((p) => route.allowed.includes(p.kind));
    return { allowed: route.allowed, recommended };
  }

  /** Decides where a task may go; audited either way. */
  async enforce(task: Pick<LlmTask, 'id' | 'changedFiles' | 'labels' | 'level' | 'provider'>): Promise<GatewayDecision> {
    const classification = classifySensitivity(this.options.policy, { changedFiles: task.changedFiles, labels: task.labels, explicit: task.level });
    const { level } = classification;
    const { allowed, recommended } = this.route(level);
    const routing = this.options.policy.routing;
    let decision: GatewayDecision;
    if (task.provider !== undefined) {
      const provider = this.options.policy.providers.find((p) => p.name === task.provider);
      if (!provider) {
        decision = {
          allowed: false,
          level,
          classification,
          veto: {
            code: 'UNKNOWN_PROVIDER',
            level,
            provider: task.provider,
            message: `provider '${task.provider}' is not in the gateway policy (known: ${this.options.policy.providers.map((p) => p.name).join(', ') || 'none'})`,
          },
        };
      } else if (!allowed.includes(provider.kind)) {
        decision = {
          allowed: false,
          level,
          classification,
          veto: {
            code: 'PROVIDER_NOT_ALLOWED',
            level,
            provider: provider.name,
            message: `${level} task may not go to ${provider.kind} provider '${provider.name}' under the ${routing} routing policy (allowed: ${allowed.join(', ') || 'none'})`,
          },
        };
      } else {
        decision = { allowed: true, level, classification, provider };
      }
    } else if (recommended) {
      decision = { allowed: true, level, classification, provider: recommended };
    } else {
      decision = {
        allowed: false,
        level,
        classification,
        veto: {
          code: 'NO_ALLOWED_PROVIDER',
          level,
          message: `no configured provider may take a ${level} task under the ${routing} routing policy (allowed kinds: ${allowed.join(', ') || 'none'})`,
        },
      };
    }
    await this.audit(task.id, decision.allowed ? 'gateway.routed' : 'gateway.veto', {
      level,
      reasons: classification.reasons,
      routing,
      ...(decision.allowed ? { provider: decision.provider.name, kind: decision.provider.kind } : { veto: decision.veto }),
    });
    return decision;
  }

  checkNode(node: string, taskId = node): Promise<VetoReason | undefined> {
    return this.runHooks('node', { node, taskId }, taskId, `graph node '${node}'`);
  }

  checkMessage(message: ChatMessage, taskId: string): Promise<VetoReason | undefined> {
    return this.runHooks('message', { message, taskId }, taskId, `a ${message.role} message`);
  }

  checkTransition(from: string, to: string, taskId = `${from}->${to}`): Promise<VetoReason | undefined> {
    return this.runHooks('transition', { from, to, taskId }, taskId, `transition ${from} → ${to}`);
  }

  /** Enforce, check every message, then call the chosen provider. */
  async complete(task: LlmTask): Promise<CompletionResult> {
    const decision = await this.enforce(task);
    if (!decision.allowed) return { ok: false, level: decision.level, veto: decision.veto };
    for (const message of task.messages) {
      const veto = await this.checkMessage(message, task.id);
      if (veto) return { ok: false, level: decision.level, veto: { ...veto, level: decision.level } };
    }
    const answer = await chatCompletion(this.fetchImpl, decision.provider, task.messages, { maxTokens: task.maxTokens });
    await this.audit(task.id, 'gateway.completed', { provider: decision.provider.name, level: decision.level, usage: answer.usage });
    return { ok: true, level: decision.level, provider: decision.provider.name, ...answer };
  }

  private async runHooks(on: VetoHookKind, subject: Parameters<VetoHook['check']>[0], taskId: string, what: string): Promise<VetoReason | undefined> {
    for (const hook of this.hooks.filter((h) => h.on === on)) {
      const why = hook.check(subject);
      if (why !== undefined) {
        const veto: VetoReason = { code: HOOK_CODE[on], hook: hook.name, message: `${hook.name} vetoed ${what}: ${why}` };
        await this.audit(taskId, 'gateway.veto', { veto });
        return veto;
      }
    }
    await this.audit(taskId, 'gateway.allowed', { check: on, what });
    return undefined;
  }

  private async audit(subject: string, action: string, data: Record<string, unknown>): Promise<void> {
    const event: AuditEventInput = { actor: this.options.actor ?? 'gateway', action, subject, at: this.clock().toISOString(), data };
    await this.options.audit(event);
  }
}
