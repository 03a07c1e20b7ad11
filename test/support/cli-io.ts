// A CliIO whose stdout and stderr collect into one string, for running CLI
// commands in-process.
import { PassThrough, Writable } from 'node:stream';
import type { CliIO } from '../../src/cli/io.js';

export function capture(columns?: number): { io: CliIO; out: () => string } {
  let text = '';
  const sink = (): Writable =>
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
  const stdout = Object.assign(sink(), { columns });
  return { io: { stdin: new PassThrough(), stdout, stderr: sink() }, out: () => text };
}
