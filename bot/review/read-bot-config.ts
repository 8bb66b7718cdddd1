import * as z from 'zod';
import { DEFAULT_POLICY_PATH } from '../../src/constants.js';
import { errorMessage } from '../../src/errors.js';
import { BOT_CONFIG_FILE } from '../bot-constants.js';

/** `.github/qualityfoundry-bot.yml` on the default branch: the bot's own settings (never the gate's policy). */
export const BotConfigSchema = z.strictObject({
  policy: z.string().min(1).default(DEFAULT_POLICY_PATH).describe("Path of the gate policy, read at each pull request's base commit."),
});
export type BotConfig = z.infer<typeof BotConfigSchema>;

/** Reads the bot's settings through Probot's context.config; a broken file falls back to the defaults, with a warning. */
export async function readBotConfig(context: {
  config<T>(file: string): Promise<T | null>;
  log: { warn(obj: object, msg: string): void };
}): Promise<BotConfig> {
  try {
    const raw = await context.config<unknown>(BOT_CONFIG_FILE);
    const parsed = BotConfigSchema.safeParse(raw ?? {});
    if (parsed.success) return parsed.data;
    context.log.warn({ issues: parsed.error.issues }, `.github/${BOT_CONFIG_FILE} is not valid; using the defaults`);
  } catch (error) {
    context.log.warn({ error: errorMessage(error) }, `.github/${BOT_CONFIG_FILE} cannot be read; using the defaults`);
  }
  return BotConfigSchema.parse({});
}
