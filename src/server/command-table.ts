// The commands varve serve answers, found from a request's first argument
// as it arrives (bytes, any case), without making a string of it: the
// lookup runs for every request, and a string, its lower-case copy and a
// map lookup cost several times the byte comparison against the few names
// of the same length.
import type { Command } from './command.js';

const UPPER_A = 65;
const UPPER_Z = 90;

interface Named {
  /** The command's name, lower case, as bytes. */
  name: Uint8Array;
  command: Command;
}

export class CommandTable {
  /** Commands by name length. */
  readonly #byLength: Named[][] = [];
  /** The last name looked up, by identity, and what it found: the parser hands a run of like requests one shared name array. */
  #lastArg: Uint8Array | undefined;
  #lastCommand: Command | undefined;

  /** `byName`: every command under its lower-case name. */
  constructor(byName: ReadonlyMap<string, Command>) {
    for (const [name, command] of byName) {
      const bytes = new TextEncoder().encode(name);
      (this.#byLength[bytes.length] ??= []).push({ name: bytes, command });
    }
  }

  /** The command named `arg`, compared ASCII case-insensitively, or undefined. Precondition: arrays looked up are not written to afterwards. */
  find(arg: Uint8Array): Command | undefined {
    if (arg === this.#lastArg) return this.#lastCommand;
    const command = this.#lookUp(arg);
    this.#lastArg = arg;
    this.#lastCommand = command;
    return command;
  }

  #lookUp(arg: Uint8Array): Command | undefined {
    const candidates = this.#byLength[arg.length];
    if (candidates === undefined) return undefined;
    for (let j = 0; j < candidates.length; j++) {
      if (equalsLowerCase(arg, candidates[j]!.name)) return candidates[j]!.command;
    }
    return undefined;
  }
}

/** Whether `arg`, with ASCII upper-case letters lowered, equals `lower` (of the same length). */
function equalsLowerCase(arg: Uint8Array, lower: Uint8Array): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = arg[i]!;
    if ((c >= UPPER_A && c <= UPPER_Z ? c | 0x20 : c) !== lower[i]) return false;
  }
  return true;
}
