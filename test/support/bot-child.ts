/**
 * One bot replica in its own process, for the several-replicas test: the real startBot (Fastify +
 * Probot's middleware) on the environment it is given, with the test Octokit (no throttling).
 * Prints `ready URL` once it listens; closes cleanly on SIGTERM (deliveries in flight finish).
 */
import { startBot } from '../../bot/server/start-bot.js';
import { TestOctokit } from './bot-harness.js';

const bot = await startBot(process.env, { Octokit: TestOctokit });
process.stdout.write(`ready ${bot.url}\n`);
process.once('SIGTERM', () => {
  bot.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`close failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
