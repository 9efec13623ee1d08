import { startBot } from './bot.js';
import { ConfigError, loadConfig } from './config/load.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchyard: configuration error: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const log = createLogger(config.env.LOG_LEVEL);
  // Loaded only in local mode: Slack mode never loads the emulators or the sandbox.
  const localMode = config.slackMode === 'local' ? await import('./local-mode.js') : undefined;
  const local = localMode ? await localMode.startLocalSlack(config, log) : undefined;
  let bot: Awaited<ReturnType<typeof startBot>>;
  try {
    bot = await startBot(local?.config ?? config, log, {
      extraOperators: localMode ? [localMode.LOCAL_USER] : [],
      host: local ? '127.0.0.1' : undefined,
      routes: local?.routes,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchyard: configuration error: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  if (local && localMode) {
    await local.saveSession(bot.url, bot.settled);
    if (local.generatedWebhookToken) {
      // A throwaway token for a loopback-only webhook, made for this run: printing it is the point.
      log.info(
        { webhook: `${bot.url}/alertmanager` },
        `local mode: the Alertmanager webhook takes "Authorization: Bearer ${local.webhookToken}" (made for this run; set ALERTMANAGER_WEBHOOK_TOKEN to choose one; npm run cli -- alert fire MessagingSystemDown uses it)`,
      );
    }
    log.info(
      {
        url: bot.url,
        sandbox: `${bot.url}/sandbox`,
        slackEmulator: local.emulator.url,
        session: localMode.localSessionPath(config.env.STATE_DIR),
        demoPrometheus: local.demoPrometheus,
      },
      localMode.readyLine(bot.url, config.env.STATE_DIR),
    );
  } else {
    log.info(
      { url: bot.url, slackMode: config.slackMode, channel: config.channel },
      `Switchyard is listening on port ${bot.port}`,
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight work');
    await bot.stop();
    await local?.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`switchyard: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
