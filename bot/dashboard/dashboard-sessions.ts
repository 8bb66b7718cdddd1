import { createHash, randomBytes } from 'node:crypto';
import type { ApiTokenIdentity } from '../api/api-tokens.js';

/** How long a login lasts without use. */
export const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;

export interface DashboardSession {
  /** The token entry's name and scopes at login (never the token). */
  identity: ApiTokenIdentity;
  /** The synchronizer token every POST of this session must carry. */
  csrf: string;
  expiresAt: number;
}

/**
 * Server-side sessions behind an opaque cookie: the cookie holds 32 random bytes, the map holds only
 * their sha256, so neither a log of the map nor a timing difference in the lookup gives a usable id.
 * Kept in memory: a restart logs everyone out, and each replica keeps its own (a load balancer in front
 * of several replicas needs sticky sessions for the dashboard).
 */
export class DashboardSessions {
  private readonly sessions = new Map<string, DashboardSession>();

  constructor(private readonly now: () => number = Date.now) {}

  create(identity: ApiTokenIdentity): { id: string; session: DashboardSession } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const session: DashboardSession = { identity, csrf: randomBytes(32).toString('base64url'), expiresAt: this.now() + SESSION_IDLE_MS };
    this.sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session of a cookie value, its idle deadline pushed back; undefined when unknown or expired. */
  get(id: string | undefined): DashboardSession | undefined {
    if (!id) return undefined;
    const key = digest(id);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    session.expiresAt = this.now() + SESSION_IDLE_MS;
    return session;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(digest(id));
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(key);
  }
}

const digest = (id: string): string => createHash('sha256').update(id).digest('hex');
