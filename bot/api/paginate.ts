import type { FastifyReply, FastifyRequest } from 'fastify';
import * as z from 'zod';
import type { Page, PageKey } from '../../src/store/index.js';

/** A 400 about one parameter; the API's error handler answers it as `{status, error, parameter, message}`. */
export class BadParameter extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'BadParameter';
  }
}

const CursorSchema = z
  .array(z.union([z.string().max(500), z.number()]))
  .min(1)
  .max(4);

/** The opaque `after` cursor: the keyset of a page's last item, base64url JSON. */
export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): PageKey | undefined {
  if (cursor === undefined) return undefined;
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new BadParameter('after', 'not a cursor this API made; follow the Link header\'s rel="next"');
  }
}

/**
 * Sets GitHub-style `Link` headers (rel="next" while there is more, rel="first" always) on the
 * request's own URL with its other parameters kept, and returns the page's items.
 */
export function sendPage<T>(request: FastifyRequest, reply: FastifyReply, page: Page<T>, publicUrl: string | null): T[] {
  const base = publicUrl ?? `${request.protocol}://${request.host}`;
  const url = new URL(request.url, `${base}/`);
  const absolute = new URL(`${base}${url.pathname}${url.search}`);
  const link = (after: string | null, rel: string): string => {
    const target = new URL(absolute);
    if (after === null) target.searchParams.delete('after');
    else target.searchParams.set('after', after);
    return `<${target}>; rel="${rel}"`;
  };
  const links = [...(page.next ? [link(encodeCursor(page.next), 'next')] : []), link(null, 'first')];
  reply.header('link', links.join(', '));
  return page.items;
}
