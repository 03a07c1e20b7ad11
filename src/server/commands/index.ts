// The command table: every command varve serve answers, by lower-case name.
import type { Command, Context } from '../command.js';
import { CommandTable } from '../command-table.js';
import { ScanCursors } from '../scan-cursors.js';
import { CONNECTION_COMMANDS } from './connection.js';
import { keyCommands } from './keys.js';
import { serverCommands } from './server.js';
import { STRING_COMMANDS } from './strings.js';

export function commandTable(info: (ctx: Context, sections: string[]) => Promise<string>): CommandTable {
  const table = new Map<string, Command>();
  const add = (commands: Command[]) => {
    for (const c of commands) table.set(c.name, c);
  };
  add(CONNECTION_COMMANDS);
  add(STRING_COMMANDS);
  add(keyCommands(new ScanCursors()));
  add(serverCommands(table, info));
  return new CommandTable(table);
}
