// Operator commands (rladmin-style, digest §2.10 and §3.5), all clients of the REST API:
//   certplane cluster certificate set|list|delete …   (certificate-commands.ts)
//   certplane cluster ocsp …                           (ocsp-commands.ts)
//   certplane node remove <uid>                        (node-commands.ts)
//   certplane status [--threshold DAYS]                (status-command.ts; exit 3/4 when certificates need attention)
// Connection from CERTPLANE_URL (default https://127.0.0.1:9443), CERTPLANE_USER / CERTPLANE_PASSWORD, and
// CERTPLANE_CACERT (PEM file to trust instead of the system store), --data-dir/CERTPLANE_DATA_DIR (trust this
// node's own api certificate), --insecure (no verification, with a warning), CERTPLANE_CERT/CERTPLANE_KEY
// (client-certificate login). An untrusted server gets no request at all, so never the password.
// Exit codes: 0 success; 1 the request failed (API error printed as `HTTP <status> <error_code>: <description>`,
// server unreachable, unreadable file); 2 usage error (nothing was sent).
import { CERTIFICATE_USAGE, runCertificateCommand } from './certificate-commands.js';
import { OCSP_USAGE, runOcspCommand } from './ocsp-commands.js';
import { NODE_USAGE, runNodeCommand } from './node-commands.js';
import { runStatusCommand, STATUS_USAGE, wantsColor } from './status-command.js';
import {
  CliFailure,
  CliUsageError,
  connectionFromEnv,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  processIo,
  type ApiConnection,
  type CliIo,
} from './cli-api-client.js';

export const OPERATOR_USAGE = `${CERTIFICATE_USAGE}
${OCSP_USAGE}
${NODE_USAGE}
${STATUS_USAGE}
  global options: --data-dir DIR (trust this node's api certificate; or CERTPLANE_DATA_DIR),
                  --insecure (do not verify the server's certificate; prints a warning)
  (environment: CERTPLANE_URL, CERTPLANE_USER, CERTPLANE_PASSWORD, CERTPLANE_CACERT, CERTPLANE_DATA_DIR,
   CERTPLANE_CERT + CERTPLANE_KEY for client-certificate login without a password)
  exit status: 0 success, 1 request failed (API error, unreachable, unreadable file), 2 usage error,
               3 and 4 from status (attention needed, see above)`;

export async function runOperatorCommand(argv: string[], env: NodeJS.ProcessEnv, io: CliIo = processIo): Promise<number> {
  // Connected lazily: a usage error is reported without reading CERTPLANE_CACERT or touching the network.
  let connection: Promise<ApiConnection> | undefined;
  try {
    const { args, insecure, dataDir } = globalOptions(argv);
    const connect = (): Promise<ApiConnection> => (connection ??= connectionFromEnv(env, { insecure, dataDir, io }));
    const [first, second, ...rest] = args;
    if (first === 'status') {
      return await runStatusCommand(args.slice(1), connect, io, wantsColor(env, io.outIsTTY?.() === true));
    } else if (first === 'cluster' && second === 'certificate') {
      await runCertificateCommand(rest, connect, io);
    } else if (first === 'cluster' && second === 'ocsp') {
      await runOcspCommand(rest, connect, io);
    } else if (first === 'node' && second !== undefined) {
      await runNodeCommand([second, ...rest], connect, io);
    } else {
      throw new CliUsageError(`unknown command '${argv.join(' ')}'`);
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.err(`certplane: ${error.message}\nusage:\n${OPERATOR_USAGE}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof CliFailure) {
      io.err(`${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}

/** `--insecure` and `--data-dir DIR`, anywhere on the line; the rest is the command. */
function globalOptions(argv: string[]): { args: string[]; insecure: boolean; dataDir: string | undefined } {
  const args: string[] = [];
  let insecure = false;
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--insecure') insecure = true;
    else if (arg === '--data-dir') {
      dataDir = argv[++i];
      if (dataDir === undefined) throw new CliUsageError('--data-dir needs a directory');
    } else if (arg.startsWith('--data-dir=')) dataDir = arg.slice('--data-dir='.length);
    else args.push(arg);
  }
  return { args, insecure, dataDir };
}
