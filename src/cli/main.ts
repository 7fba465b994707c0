// The certplane command: `certplane start …` runs a node; the other commands are operator tools in the
// spirit of rladmin that talk to the REST API (see src/cli/operator-commands.ts).
import { loadNodeConfig, ConfigError } from '../config/node-config.js';
import { startNode } from '../node/start-node.js';
import { NodeRemovedError } from '../node/node-membership.js';
import { createLogger } from '../lib/logger.js';
import { runOperatorCommand, OPERATOR_USAGE } from './operator-commands.js';

const USAGE = `usage:
  certplane start [--data-dir DIR] [--address IP] [--api-port N] [--cm-port N] [--metrics-port N]
                  [--store sqlite|etcd://HOST:PORT[,HOST:PORT]] [--cluster-name FQDN] [--node-name NAME]
                  [--api-request-timeout-ms N] [--api-headers-timeout-ms N] [--api-keep-alive-timeout-ms N]
                  [--api-idle-timeout-ms N] [--api-max-connections N] [--metrics-max-connections N]
                  [--db-max-connections N] [--db-idle-timeout-seconds N]   (README "Configuration")
${OPERATOR_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'start') return runStart(rest);
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  return runOperatorCommand(argv, process.env);
}

async function runStart(argv: string[]): Promise<number> {
  let config;
  try {
    config = loadNodeConfig({ argv, env: process.env });
  } catch (error) {
    process.stderr.write(`certplane: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const log = createLogger(config.logLevel);
  const node = await startNode(config, log);
  const removed = await new Promise<NodeRemovedError | undefined>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping');
      resolve(undefined);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // A control-plane restart that closes no database connection (README "Data plane").
    process.once('SIGUSR2', () => {
      node.keepDataPlane();
      stop('SIGUSR2');
    });
    void node.removed.then(resolve);
  });
  await node.close();
  if (removed === undefined) return 0;
  // Removed by an operator while running: stop, and say why (exit 1, as a refused start does).
  process.stderr.write(`certplane: ${removed.message}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof NodeRemovedError) process.stderr.write(`certplane: ${error.message}\n`);
    else process.stderr.write(`certplane: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
