import net from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '::ffff:127.0.0.1']);

/**
 * Refuses every TCP connection that does not go to the loopback interface, for the rest of the process:
 * a test that would reach GitHub (or anywhere else) fails instead. Unix sockets (git, Docker) pass.
 */
export function denyNetwork(): void {
  const original = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
  if ((original as { qfDenied?: boolean }).qfDenied) return;
  const guarded = function (this: net.Socket, ...args: unknown[]): net.Socket {
    const [first] = args;
    const options = (Array.isArray(first) ? first[0] : first) as { host?: string; port?: number; path?: string } | number | string;
    const host =
      typeof options === 'object' && options !== null
        ? options.path
          ? undefined
          : (options.host ?? 'localhost')
        : typeof options === 'number'
          ? typeof args[1] === 'string'
            ? args[1]
            : 'localhost'
          : undefined;
    if (host !== undefined && !LOOPBACK.has(host)) throw new Error(`Network access to ${host} is disabled in tests; only 127.0.0.1 is allowed.`);
    return original.apply(this, args);
  };
  (guarded as { qfDenied?: boolean }).qfDenied = true;
  net.Socket.prototype.connect = guarded as typeof net.Socket.prototype.connect;
}
