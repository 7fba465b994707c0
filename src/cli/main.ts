// The certplane command: `certplane start …` runs a node; the other commands are operator tools in the
// spirit of rladmin that talk to the REST API (see src/cli/operator-commands.ts).
import { loadNodeConfig, ConfigError } from '../config/node-config.js';
import { startNode } from '../node/start-node.js';
import { NodeRemovedError } from '../node/node-membership.js';
import { createLogger, resolveLogFormat } from '../lib/logger.js';
import { runOperatorCommand, OPERATOR_USAGE } from './operator-commands.js';
import { cliCommand, formatStartSummary, readAdminHint, startSummaryFields, type StartFacts } from './start-summary.js';

const USAGE = `usage:
  certplane start [--data-dir DIR] [--address IP] [--api-port N] [--cm-port N] [--metrics-port N]
                  [--store sqlite|etcd://HOST:PORT[,HOST:PORT]] [--cluster-name FQDN] [--node-name NAME]
                  [--api-request-timeout-ms N] [--api-headers-timeout-ms N] [--api-keep-alive-timeout-ms N]
                  [--api-idle-timeout-ms N] [--api-max-connections N] [--metrics-max-connections N]
                  [--db-max-connections N] [--db-idle-timeout-seconds N]
                  [--log-level L] [--log-format auto|json|pretty]   (README "Configuration")
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
  const format = resolveLogFormat(config.logFormat, process.stdout.isTTY === true);
  const log = createLogger(config.logLevel, undefined, format);
  const node = await startNode(config, log);
  const facts: StartFacts = {
    nodeId: node.nodeId,
    clusterName: config.clusterName,
    address: config.address,
    apiPort: node.apiPort,
    metricsPort: node.metricsPort,
    cmPort: node.cmPort ?? config.cmPort,
    uiRunning: node.cmPort !== undefined,
    dataDir: config.dataDir,
    ...(await readAdminHint(config.dataDir, process.env)),
    cli: cliCommand(process.cwd()),
  };
  // A person at a terminal gets the text; JSON logs get one more JSON line, and stdout stays JSON lines.
  if (format === 'pretty') process.stdout.write(formatStartSummary(facts));
  else log.info(startSummaryFields(facts), 'where to start');
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
