import type { ServerResponse } from 'node:http';
import { type FakeGitHub, notFound, send } from './fake-github.js';
import { type FakeApp, verifyAppJwt } from './fake-github-review-routes.js';

/** One attempt of a webhook delivery in the app's delivery log, as `GET /app/hook/deliveries` lists it. */
export interface FakeHookDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
}

/**
 * The app's webhook delivery log (app JWT only): `GET /app/hook/deliveries`, newest first, with
 * GitHub's cursor pagination, and `POST /app/hook/deliveries/{id}/attempts`, which records the
 * redelivery request (202) in `fake.redeliveryRequests` and calls `fake.onRedeliver` when set.
 * Answers true when it handled the request.
 */
export function handleAppRoute(fake: FakeGitHub, method: string, url: URL, authorization: string, response: ServerResponse): boolean {
  if (!url.pathname.startsWith('/app/hook/deliveries')) return false;
  const app = fake.app as FakeApp | undefined;
  if (!app || !verifyAppJwt(authorization, app)) {
    send(response, 401, { message: 'A JSON web token could not be decoded', documentation_url: 'https://docs.github.com/rest' });
    return true;
  }
  const fault = fake.faults.find((candidate) => candidate.method === method && candidate.path.test(url.pathname) && candidate.times > 0);
  if (fault) {
    fault.times -= 1;
    send(response, fault.status, fault.body ?? { message: `fault ${fault.status}` }, fault.headers);
    return true;
  }
  if (method === 'GET' && url.pathname === '/app/hook/deliveries') {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const sorted = [...fake.hookDeliveries].sort((a, b) => b.id - a.id);
    const cursor = url.searchParams.get('cursor');
    const start = cursor ? sorted.findIndex((d) => d.id < Number(cursor)) : 0;
    const items = start < 0 ? [] : sorted.slice(start, start + perPage);
    const last = items.at(-1);
    const headers: Record<string, string> = {};
    if (last && start + perPage < sorted.length) {
      const next = new URL(url);
      next.searchParams.set('cursor', String(last.id));
      headers.link = `<${next.href}>; rel="next"`;
    }
    send(response, 200, items, headers);
    return true;
  }
  const attempt = url.pathname.match(/^\/app\/hook\/deliveries\/(\d+)\/attempts$/);
  if (method === 'POST' && attempt) {
    const delivery = fake.hookDeliveries.find((d) => d.id === Number(attempt[1]));
    if (!delivery) {
      notFound(response);
      return true;
    }
    fake.redeliveryRequests.push(delivery.id);
    send(response, 202, {});
    void fake.onRedeliver?.(delivery);
    return true;
  }
  notFound(response);
  return true;
}
