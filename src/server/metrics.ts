// Prometheus metrics (prom-client) on their own HTTP port: the process's
// default metrics (unprefixed, as prom-client names them), commands by name
// with latency histograms, connected clients, and the engine's counters and
// level shape read from db.stats() at each scrape.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db.js';
import { CommandStats } from './command-stats.js';

const LATENCY = 'varve_command_duration_seconds';
const LATENCY_HELP = 'Time from dispatch to reply ready (a write includes its commit), by command';

/** A counter fed from a running total the engine keeps: each scrape adds what is new. */
function engineCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}

export class Metrics {
  /** Every metric but the latency histogram, which `commands` renders itself (see command-stats.ts). */
  readonly registry = new Registry();
  readonly #commands = new CommandStats();
  #http: Server | undefined;

  constructor(db: Database, connectedClients: () => number) {
    collectDefaultMetrics({ register: this.registry });
    const commands = this.#commands;
    const reported = new Map<string, number>();
    new Counter({ name: 'varve_commands_total', help: 'Commands processed, by command', labelNames: ['command'], registers: [this.registry], collect() {
      for (const [command, count] of commands.counts()) {
        const delta = count - (reported.get(command) ?? 0);
        if (delta > 0) this.inc({ command }, delta);
        reported.set(command, count);
      }
    } });
    new Gauge({ name: 'varve_connected_clients', help: 'Client connections open', registers: [this.registry], collect() {
      this.set(connectedClients());
    } });
    const stats = () => db.stats();
    engineCounter(this.registry, 'varve_user_bytes_written_total', 'Key and value bytes of committed writes', () => stats().write.userBytesWritten);
    engineCounter(this.registry, 'varve_wal_bytes_written_total', 'Bytes appended to WAL files', () => stats().write.walBytesWritten);
    engineCounter(this.registry, 'varve_table_bytes_written_total', 'Bytes of tables written by flushes and compactions', () => stats().write.flushBytesWritten + stats().write.compactionBytesWritten);
    engineCounter(this.registry, 'varve_flushes_total', 'Memtable flushes', () => stats().write.flushes);
    engineCounter(this.registry, 'varve_compactions_total', 'Compactions that merged tables', () => stats().write.compactions);
    engineCounter(this.registry, 'varve_block_cache_hits_total', 'Data-block lookups found in the block cache', () => stats().blockCache.hits);
    engineCounter(this.registry, 'varve_block_cache_misses_total', 'Data-block lookups that read the file', () => stats().blockCache.misses);
    engineCounter(this.registry, 'varve_wal_syncs_total', 'fdatasync calls on WAL files', () => stats().wal.syncs);
    engineCounter(this.registry, 'varve_stall_seconds_total', 'Time writers spent stalled by flushes or compactions', () => stats().stalls.stallMs / 1000);
    new Gauge({ name: 'varve_level_files', help: 'Tables in each level', labelNames: ['level'], registers: [this.registry], collect() {
      for (const l of db.stats().levels) this.set({ level: String(l.level) }, l.files);
    } });
    new Gauge({ name: 'varve_level_bytes', help: 'Bytes of the tables in each level', labelNames: ['level'], registers: [this.registry], collect() {
      for (const l of db.stats().levels) this.set({ level: String(l.level) }, l.bytes);
    } });
    new Gauge({ name: 'varve_write_amplification', help: 'Table bytes written per user byte written, since open', registers: [this.registry], collect() {
      this.set(db.stats().write.writeAmplification);
    } });
  }

  /** A command finished: counted and timed. */
  finished(command: string, seconds: number): void {
    this.#commands.record(command, seconds);
  }

  /** The exposition GET /metrics serves. */
  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${this.#commands.histogramText(LATENCY, LATENCY_HELP)}`;
  }

  /** Serves GET /metrics on `host`:`port`; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end('varve serve exposes GET /metrics\n');
        return;
      }
      this.text().then(
        (body) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    });
    this.#http = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as { port: number }).port));
    });
  }

  close(): Promise<void> {
    const http = this.#http;
    if (http === undefined) return Promise.resolve();
    return new Promise((resolve) => http.close(() => resolve()));
  }
}
