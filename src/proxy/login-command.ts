// What a held AUTH or HELLO command asks for, read the way redis-server reads it (acl.c authCommand,
// networking.c helloCommand), and how to rewrite it: the proxy never lets redis see a client's password; it
// sends the same command with either the node's secret for the user (right password) or a throwaway password
// (wrong one), so redis itself gives the reply (+OK, HELLO's map, -WRONGPASS) in pipeline order.

import { commandName } from '../lib/resp-command-scanner.js';

export interface LoginCommand {
  /** The user asked for (`default` for AUTH with one argument). */
  username: Buffer;
  password: Buffer;
  /**
   * False when redis refuses the command before looking at the password (HELLO with a bad protocol version
   * or a syntax error): no check, and the rewrite still carries no client password.
   */
  checked: boolean;
  /** The command with every username/password pair it carries replaced. */
  rewrite(username: Buffer | string, password: Buffer | string): Buffer[];
}

const DEFAULT = Buffer.from('default');

/** Names (command, HELLO options) compared as redis does: case-insensitive, up to the first NUL. */
function lower(arg: Buffer | undefined): string {
  return arg === undefined ? '' : commandName(arg);
}

/** redis string2ll on a bulk argument. */
function isInteger(arg: Buffer | undefined, value: (n: number) => boolean): boolean {
  const text = arg?.toString('latin1') ?? '';
  return /^(0|-?[1-9][0-9]{0,18})$/.test(text) && value(Number(text));
}

/** args as the scanner held them (isLoginCommand was true). */
export function parseLoginCommand(args: readonly Buffer[]): LoginCommand {
  const name = lower(args[0]);
  if (name === 'auth') {
    const single = args.length === 2;
    return {
      username: single ? DEFAULT : (args[1] as Buffer),
      password: args[args.length - 1] as Buffer,
      checked: true,
      rewrite: (username, password) => [Buffer.from('AUTH'), Buffer.from(username), Buffer.from(password)],
    };
  }
  // HELLO protover [AUTH username password] [SETNAME clientname], options in any order, repeatable.
  const pairs: number[] = [];
  let syntaxOk = isInteger(args[1], (n) => n === 2 || n === 3);
  for (let j = 2; j < args.length && syntaxOk; j++) {
    const more = args.length - 1 - j;
    const option = lower(args[j]);
    if (option === 'auth' && more >= 2) {
      pairs.push(j + 1);
      j += 2;
    } else if (option === 'setname' && more >= 1) {
      j += 1;
    } else {
      syntaxOk = false;
    }
  }
  // Without a well-formed AUTH option redis refuses before authenticating; any AUTH word may still be
  // followed by what the client meant as a password, so every such pair is rewritten too.
  if (!syntaxOk) {
    pairs.length = 0;
    for (let j = 2; j + 2 < args.length; j++) if (lower(args[j]) === 'auth') pairs.push(j + 1);
  }
  const last = pairs.at(-1);
  return {
    username: last === undefined ? DEFAULT : (args[last] as Buffer),
    password: last === undefined ? Buffer.alloc(0) : (args[last + 1] as Buffer),
    checked: syntaxOk && last !== undefined,
    rewrite: (username, password) => {
      const out = args.map((a) => Buffer.from(a));
      for (const at of pairs) {
        out[at] = Buffer.from(username);
        out[at + 1] = Buffer.from(password);
      }
      return out;
    },
  };
}
