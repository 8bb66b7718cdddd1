import type { AuditEventInput } from '../../audit/audit-chain.js';
import type { GatewayPolicy, Sensitivity } from '../../policy/schema.js';
import type { AuditSink } from '../psmp/types.js';
import { QfError } from '../../errors.js';
import { digestOf } from '../../util/canonical-json.js';
import { classifySensitivity, type Classification } from './classify-sensitivity.js';
import { chatCompletion, chatRequestBody, type ChatMessage, type ChatOptions } from './openai-client.js';
import type { ResponseCache } from './response-cache.js';
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
  /** The model to ask for; default: the provider's. */
  model?: string;
  temperature?: number;
  /** Use the response cache for this task (default true when the gateway has one). */
  cache?: boolean;
  /** Mixed into the cache key: the same request made as a different run (repeat 2 of 3) is a different entry. */
  cacheSalt?: string;
  /** Deadline of each HTTP attempt of this task; default: the gateway's. */
  timeoutMs?: number;
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
  | {
      ok: true;
      level: Sensitivity;
      provider: string;
      content: string;
      usage: { promptTokens: number; completionTokens: number };
      /** Served from the response cache: no call made, no token spent. */
      cached: boolean;
      /** From the provider's prices in the policy; 0 without them. */
      costUsd: number;
    }
  | { ok: false; level: Sensitivity; veto: VetoReason }
  | { ok: false; level: Sensitivity; budgetSpent: { limit: number; spent: number } };

/** A veto as the run records it (evidence.governance.vetoes). */
export type VetoRecord = VetoReason & { taskId: string };

export interface SecureGatewayOptions {
  policy: GatewayPolicy;
  audit: AuditSink;
  fetch?: typeof fetch;
  clock?: () => Date;
  actor?: string;
  /** The runner's environment, where providers' API keys are (`api_key_env`); nothing else reads keys. */
  env?: Record<string, string | undefined>;
  /** Tokens (prompt + completion) all calls together may spend; once spent, calls are refused. Default: no limit. */
  tokenBudget?: number;
  cache?: ResponseCache;
  /** Per-attempt deadline, attempts and backoff of each call (see chatCompletion). */
  call?: Pick<ChatOptions, 'timeoutMs' | 'attempts' | 'retryDelayMs'>;
}

const HOOK_CODE: Record<VetoHookKind, VetoCode> = { node: 'NODE_VETOED', message: 'MESSAGE_VETOED', transition: 'TRANSITION_VETOED' };

/**
 * The only way to an LLM. Classifies each task, routes it to a provider its level allows, runs
 * the veto hooks, and audits every decision. A vetoed task never reaches any provider.
 */
export class SecureGateway {
  private readonly hooks: VetoHook[] = [];
  private readonly fetchImpl: typeof fetch;
  private readonly clock: () => Date;
  private spent = 0;
  private budgetAudited = false;
  /** Every veto so far, in order. */
  readonly vetoes: VetoRecord[] = [];

  constructor(private readonly options: SecureGatewayOptions) {
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
    if (!decision.allowed) this.vetoes.push({ ...decision.veto, taskId: task.id });
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

  /** Tokens the calls made so far spent (cached answers spend none). */
  get tokensSpent(): number {
    return this.spent;
  }

  /** The providers a task may be routed to (names, kinds, endpoints, models; keys are only named). */
  get providers(): readonly Provider[] {
    return this.options.policy.providers;
  }

  /** The most tokens all calls together may spend; undefined: no limit. */
  get tokenBudget(): number | undefined {
    return this.options.tokenBudget;
  }

  /** Whether the token budget is spent: every further call would be refused. */
  get budgetSpent(): boolean {
    return this.options.tokenBudget !== undefined && this.spent >= this.options.tokenBudget;
  }

  /**
   * Enforce, check every message, then answer from the cache or call the chosen provider (with the
   * provider's API key from the runner's environment), within the token budget. Throws TOOL_FAILED
   * when the provider cannot be reached or answers garbage after its retries.
   */
  async complete(task: LlmTask): Promise<CompletionResult> {
    const decision = await this.enforce(task);
    if (!decision.allowed) return { ok: false, level: decision.level, veto: decision.veto };
    for (const message of task.messages) {
      const veto = await this.checkMessage(message, task.id);
      if (veto) return { ok: false, level: decision.level, veto: { ...veto, level: decision.level } };
    }
    const { provider, level } = decision;
    const callOptions: ChatOptions = {
      ...this.options.call,
      ...(task.maxTokens !== undefined ? { maxTokens: task.maxTokens } : {}),
      ...(task.model !== undefined ? { model: task.model } : {}),
      ...(task.temperature !== undefined ? { temperature: task.temperature } : {}),
      ...(task.timeoutMs !== undefined ? { timeoutMs: task.timeoutMs } : {}),
    };
    const cache = task.cache === false ? undefined : this.options.cache;
    const key = digestOf({ url: provider.base_url, request: chatRequestBody(provider, task.messages, callOptions), salt: task.cacheSalt ?? null });
    const cost = (usage: { promptTokens: number; completionTokens: number }) => {
      const prices = provider.usd_per_million_tokens;
      return prices ? (usage.promptTokens * prices.prompt + usage.completionTokens * prices.completion) / 1_000_000 : 0;
    };
    const hit = await cache?.get(key);
    if (hit) {
      await this.audit(task.id, 'gateway.cache_hit', { provider: provider.name, level, request: key, usage: hit.usage });
      return { ok: true, level, provider: provider.name, ...hit, cached: true, costUsd: cost(hit.usage) };
    }
    if (this.budgetSpent) {
      const budgetSpent = { limit: this.options.tokenBudget!, spent: this.spent };
      // Once, however many calls are refused after it: the run records where the budget ran out.
      if (!this.budgetAudited) await this.audit(task.id, 'gateway.budget_spent', budgetSpent);
      this.budgetAudited = true;
      return { ok: false, level, budgetSpent };
    }
    const apiKey = provider.api_key_env === undefined ? undefined : this.options.env?.[provider.api_key_env];
    if (provider.api_key_env !== undefined && !apiKey)
      throw new QfError(
        'TOOL_FAILED',
        `LLM provider '${provider.name}' needs its API key in ${provider.api_key_env}, which the runner's environment does not have`,
      );
    const answer = await chatCompletion(this.fetchImpl, provider, task.messages, { ...callOptions, ...(apiKey ? { apiKey } : {}) });
    this.spent += answer.usage.promptTokens + answer.usage.completionTokens;
    await this.audit(task.id, 'gateway.completed', { provider: provider.name, level, request: key, usage: answer.usage, tokensSpent: this.spent });
    await cache?.set(key, answer);
    return { ok: true, level, provider: provider.name, ...answer, cached: false, costUsd: cost(answer.usage) };
  }

  private async runHooks(on: VetoHookKind, subject: Parameters<VetoHook['check']>[0], taskId: string, what: string): Promise<VetoReason | undefined> {
    for (const hook of this.hooks.filter((h) => h.on === on)) {
      const why = hook.check(subject);
      if (why !== undefined) {
        const veto: VetoReason = { code: HOOK_CODE[on], hook: hook.name, message: `${hook.name} vetoed ${what}: ${why}` };
        this.vetoes.push({ ...veto, taskId });
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
