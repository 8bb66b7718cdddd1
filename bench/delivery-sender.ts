/**
 * The senders of bench/bot-deliveries.ts, in a process of their own (as GitHub's are): the parent
 * sends the signed deliveries over IPC, this process posts them from N concurrent keep-alive
 * connections and answers with each one's latency and status. Its CPU is not the bot's.
 */
import http from 'node:http';

interface Job {
  headers: Record<string, string>;
  body: string;
}
interface Order {
  url: string;
  senders: number;
  queue: Job[];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(url: URL, job: Job): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers: { ...job.headers, 'content-length': Buffer.byteLength(job.body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(job.body);
  });
}

process.once('message', async ({ url, senders, queue }: Order) => {
  const target = new URL(url);
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < queue.length) {
        const job = queue[next++]!;
        const t0 = performance.now();
        const status = await post(target, job);
        latencies.push(performance.now() - t0);
        if (status !== 200) failed += 1;
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  agent.destroy();
  process.send!({ latencies, failed, elapsedMs }, () => process.exit(0));
});
