// Prometheus metrics (prom-client) on their own HTTP port: the process's
// default metrics (unprefixed, as prom-client names them), commands by name
// with latency histograms, connected clients, and the engine's counters and
// level shape read from db.stats() at each scrape.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db.js';

/** Seconds: 50 µs to 1 s, where command latencies fall. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

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
  readonly registry = new Registry();
  readonly #commands: Counter<'command'>;
  readonly #latency: Histogram<'command'>;
  /** Per-command children, so the hot path does no label lookup. */
  readonly #children = new Map<string, { count: Counter.Internal; latency: Histogram.Internal<'command'> }>();
  #http: Server | undefined;

  constructor(db: Database, connectedClients: () => number) {
    collectDefaultMetrics({ register: this.registry });
    this.#commands = new Counter({ name: 'varve_commands_total', help: 'Commands processed, by command', labelNames: ['command'], registers: [this.registry] });
    this.#latency = new Histogram({
      name: 'varve_command_duration_seconds',
      help: 'Time from dispatch to reply ready (a write includes its commit), by command',
      labelNames: ['command'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
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
    let child = this.#children.get(command);
    if (child === undefined) {
      child = { count: this.#commands.labels(command), latency: this.#latency.labels(command) };
      this.#children.set(command, child);
    }
    child.count.inc();
    child.latency.observe(seconds);
  }

  /** Serves GET /metrics on `host`:`port`; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end('varve serve exposes GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
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
