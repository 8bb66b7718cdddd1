import { errorMessage } from '../src/errors.js';
import { startBot } from './server/start-bot.js';

// The entry point: the only place that reads process.env and handles signals.
try {
  const bot = await startBot(process.env);
  const stop = (): void => {
    bot.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  process.stderr.write(`qualityfoundry bot: ${errorMessage(error)}\n`);
  process.exit(2);
}
