#!/usr/bin/env node
// The `varve` executable: runs one command line and exits with its code.
import process from 'node:process';
import { run } from './main.js';

process.exitCode = await run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
