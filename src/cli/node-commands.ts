// `certplane node remove <uid>` (issue 10.4; rladmin has `node <id> remove`): POST /v1/nodes/{uid}/actions/remove.
// Only a node that is down can be removed (a live one: HTTP 409 node_alive, exit 1).
import { callApi, CliUsageError, type ApiConnection, type CliIo } from './cli-api-client.js';
import { withProgress } from './progress.js';

export const NODE_USAGE = `  certplane node remove <uid>`;

/** args: what follows `node`. */
export async function runNodeCommand(args: string[], connection: () => Promise<ApiConnection>, io: CliIo): Promise<void> {
  const [verb, uid, ...extra] = args;
  if (verb === 'remove' && uid !== undefined && extra.length === 0) {
    if (!/^[1-9][0-9]{0,9}$/.test(uid)) throw new CliUsageError(`'${uid}' is not a node uid (a positive number)`);
    const api = await connection();
    await withProgress(`removing node ${uid}`, () => callApi(api, 'POST', `/v1/nodes/${uid}/actions/remove`), io.progress);
    io.out(`Removed node ${uid} from the cluster\n`);
    return;
  }
  throw new CliUsageError(`unknown or incomplete command 'node ${args.join(' ')}'`);
}
