// INFO's text: Redis's sections, with the fields clients and dashboards
// read, and a varve section from db.stats().
import { REDIS_VERSION } from './commands/connection.js';
import type { Context } from './command.js';

const SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'keyspace', 'varve'];

function section(title: string, fields: [string, string | number][]): string {
  return `# ${title}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`;
}

async function render(name: string, ctx: Context): Promise<string> {
  const { server, keyspace } = ctx;
  const stats = keyspace.db.stats();
  const uptime = Math.floor((ctx.now - server.startedAt) / 1000);
  switch (name) {
    case 'server':
      return section('Server', [
        ['redis_version', REDIS_VERSION],
        ['varve_server', 'varve serve'],
        ['redis_mode', 'standalone'],
        ['os', `${process.platform} ${process.arch}`],
        ['process_id', process.pid],
        ['tcp_port', server.options.port],
        ['uptime_in_seconds', uptime],
        ['uptime_in_days', Math.floor(uptime / 86400)],
        ['executable', process.execPath],
      ]);
    case 'clients':
      return section('Clients', [
        ['connected_clients', server.sessions.size],
        ['maxclients', server.options.maxClients],
      ]);
    case 'memory': {
      const m = process.memoryUsage();
      const engine = keyspace.db.memoryUsage();
      return section('Memory', [
        ['used_memory', m.heapUsed + m.external + m.arrayBuffers],
        ['used_memory_rss', m.rss],
        ['used_memory_wasm', engine.wasmMain + engine.wasmTableWorkers],
        ['maxmemory', 0],
      ]);
    }
    case 'persistence':
      return section('Persistence', [
        ['loading', 0],
        ['aof_enabled', 1],
        ['appendfsync', server.options.appendfsync],
        ['rdb_bgsave_in_progress', 0],
        ['aof_last_write_status', stats.background.error === null ? 'ok' : 'err'],
        ['pending_writes', keyspace.pendingWrites],
      ]);
    case 'stats':
      return section('Stats', [
        ['total_connections_received', server.counters.connectionsReceived],
        ['total_commands_processed', server.counters.commandsProcessed],
        ['rejected_connections', server.counters.rejectedConnections],
      ]);
    case 'replication':
      return section('Replication', [
        ['role', 'master'],
        ['connected_slaves', 0],
      ]);
    case 'keyspace': {
      const keys = await keyspace.count();
      // Expiring keys are not counted (that would read every entry): expires and avg_ttl are 0.
      return section('Keyspace', keys === 0 ? [] : [['db0', `keys=${keys},expires=0,avg_ttl=0`]]);
    }
    case 'varve':
      return section('Varve', [
        ['levels_files', stats.levels.map((l) => l.files).join(',')],
        ['levels_bytes', stats.levels.map((l) => l.bytes).join(',')],
        ['user_bytes_written', stats.write.userBytesWritten],
        ['wal_bytes_written', stats.write.walBytesWritten],
        ['write_amplification', stats.write.writeAmplification.toFixed(3)],
        ['flushes', stats.write.flushes],
        ['compactions', stats.write.compactions],
        ['block_cache_hit_rate', stats.blockCache.hitRate.toFixed(4)],
        ['wal_syncs', stats.wal.syncs],
        ['stall_ms', stats.stalls.stallMs],
        ['sequence', stats.sequence],
        ['background_error', stats.background.error ?? ''],
      ]);
    default:
      return '';
  }
}

/** INFO [section ...]: none, 'default', 'all' or 'everything' give every section. */
export async function infoText(ctx: Context, sections: string[]): Promise<string> {
  const wanted = sections.length === 0 || sections.some((s) => s === 'all' || s === 'everything' || s === 'default') ? SECTIONS : sections;
  const parts: string[] = [];
  for (const name of wanted) {
    const text = await render(name, ctx);
    if (text !== '') parts.push(text);
  }
  return parts.join('\r\n');
}
