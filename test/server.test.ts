// varve serve with real clients: ioredis (RESP2) and node-redis (RESP2 and
// RESP3) against a server started by the test, and raw sockets for what
// clients never send.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { RunningServer } from '../src/server/server.js';
import { tempDirs } from './support/temp-dir.js';
import { rawClient, startTestServer, until } from './support/server.js';

const newDir = tempDirs('server');
let server: RunningServer;
let redis: Redis;

beforeAll(async () => {
  server = await startTestServer(newDir());
  redis = new Redis({ port: server.port, lazyConnect: true, maxRetriesPerRequest: 0, protocol: 2 });
  await redis.connect();
});

afterAll(async () => {
  redis.disconnect();
  await server.close();
});

describe('strings through ioredis', () => {
  it('sets and gets, with every SET option', async () => {
    expect(await redis.set('s:a', 'hello')).toBe('OK');
    expect(await redis.get('s:a')).toBe('hello');
    expect(await redis.get('s:missing')).toBeNull();
    expect(await redis.set('s:a', 'x', 'NX')).toBeNull();
    expect(await redis.set('s:b', 'x', 'XX')).toBeNull();
    expect(await redis.set('s:a', 'world', 'XX', 'GET')).toBe('hello');
    expect(await redis.set('s:c', 'v', 'EX', 100)).toBe('OK');
    expect(await redis.ttl('s:c')).toBe(100);
    expect(await redis.set('s:c', 'w', 'KEEPTTL')).toBe('OK');
    expect(await redis.ttl('s:c')).toBe(100);
    expect(await redis.set('s:c', 'w')).toBe('OK');
    expect(await redis.ttl('s:c')).toBe(-1);
    expect(await redis.set('s:d', 'v', 'PX', 50)).toBe('OK');
    await new Promise((r) => setTimeout(r, 80));
    expect(await redis.get('s:d')).toBeNull();
    expect(await redis.set('s:e', 'v', 'PXAT', Date.now() + 100_000)).toBe('OK');
    expect(await redis.pttl('s:e')).toBeGreaterThan(90_000);
    await expect(redis.set('s:f', 'v', 'EX', 0)).rejects.toThrow("ERR invalid expire time in 'set' command");
    await expect(redis.call('SET', 's:f', 'v', 'NX', 'XX')).rejects.toThrow('ERR syntax error');
  });

  it('SETNX, SETEX, PSETEX, GETDEL, GETEX, GETSET, MGET, MSET, MSETNX', async () => {
    expect(await redis.setnx('m:a', '1')).toBe(1);
    expect(await redis.setnx('m:a', '2')).toBe(0);
    expect(await redis.setex('m:b', 10, 'v')).toBe('OK');
    expect(await redis.ttl('m:b')).toBe(10);
    expect(await redis.psetex('m:c', 10_000, 'v')).toBe('OK');
    expect(await redis.getdel('m:c')).toBe('v');
    expect(await redis.exists('m:c')).toBe(0);
    expect(await redis.getex('m:b', 'PERSIST')).toBe('v');
    expect(await redis.ttl('m:b')).toBe(-1);
    expect(await redis.getex('m:b', 'EX', 5)).toBe('v');
    expect(await redis.ttl('m:b')).toBe(5);
    expect(await redis.getset('m:a', '9')).toBe('1');
    expect(await redis.mset('m:x', '1', 'm:y', '2')).toBe('OK');
    expect(await redis.mget('m:x', 'm:nope', 'm:y')).toEqual(['1', null, '2']);
    expect(await redis.msetnx('m:y', '3', 'm:z', '4')).toBe(0);
    expect(await redis.exists('m:z')).toBe(0);
    expect(await redis.msetnx('m:z', '4', 'm:w', '5')).toBe(1);
    await expect(redis.setex('m:e', -1, 'v')).rejects.toThrow("ERR invalid expire time in 'setex' command");
  });

  it('counts with INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT, refusing non-integers and overflow', async () => {
    expect(await redis.incr('c:a')).toBe(1);
    expect(await redis.incrby('c:a', 41)).toBe(42);
    expect(await redis.decr('c:a')).toBe(41);
    expect(await redis.decrby('c:a', 50)).toBe(-9);
    expect(await redis.incrbyfloat('c:f', '10.5')).toBe('10.5');
    expect(await redis.incrbyfloat('c:f', '0.1')).toBe('10.6');
    await redis.set('c:s', 'abc');
    await expect(redis.incr('c:s')).rejects.toThrow('ERR value is not an integer or out of range');
    await redis.set('c:max', '9223372036854775807');
    await expect(redis.incr('c:max')).rejects.toThrow('ERR increment or decrement would overflow');
    await expect(redis.incrby('c:a', '1.5')).rejects.toThrow('ERR value is not an integer or out of range');
    await redis.set('c:t', '5', 'EX', 100);
    expect(await redis.incr('c:t')).toBe(6);
    expect(await redis.ttl('c:t')).toBe(100);
  });

  it('APPEND, STRLEN, GETRANGE, SETRANGE', async () => {
    expect(await redis.append('r:a', 'Hello')).toBe(5);
    expect(await redis.append('r:a', ' World')).toBe(11);
    expect(await redis.strlen('r:a')).toBe(11);
    expect(await redis.getrange('r:a', 0, 4)).toBe('Hello');
    expect(await redis.getrange('r:a', -5, -1)).toBe('World');
    expect(await redis.getrange('r:a', 5, 1)).toBe('');
    expect(await redis.setrange('r:a', 6, 'Redis')).toBe(11);
    expect(await redis.get('r:a')).toBe('Hello Redis');
    expect(await redis.setrange('r:b', 3, 'x')).toBe(4);
    expect(await redis.getBuffer('r:b')).toEqual(Buffer.from([0, 0, 0, 0x78]));
  });

  it('keeps binary keys and values intact', async () => {
    const key = Buffer.from([0, 255, 13, 10, 1]);
    const value = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    await redis.set(key, value);
    expect(await redis.getBuffer(key)).toEqual(value);
  });
});

describe('keys through ioredis', () => {
  it('DEL, UNLINK, EXISTS, TYPE, RENAME', async () => {
    await redis.mset('k:a', '1', 'k:b', '2', 'k:c', '3');
    expect(await redis.exists('k:a', 'k:b', 'k:nope', 'k:a')).toBe(3);
    expect(await redis.type('k:a')).toBe('string');
    expect(await redis.type('k:nope')).toBe('none');
    expect(await redis.del('k:a', 'k:nope', 'k:a')).toBe(1);
    expect(await redis.unlink('k:b')).toBe(1);
    expect(await redis.rename('k:c', 'k:d')).toBe('OK');
    expect(await redis.get('k:d')).toBe('3');
    expect(await redis.exists('k:c')).toBe(0);
    await expect(redis.rename('k:nope', 'k:e')).rejects.toThrow('ERR no such key');
  });

  it('EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX XX GT LT; TTL, PTTL, PERSIST; a past time deletes', async () => {
    await redis.set('e:a', 'v');
    expect(await redis.ttl('e:a')).toBe(-1);
    expect(await redis.ttl('e:nope')).toBe(-2);
    expect(await redis.expire('e:a', 100, 'XX')).toBe(0);
    expect(await redis.expire('e:a', 100, 'NX')).toBe(1);
    expect(await redis.expire('e:a', 50, 'GT')).toBe(0);
    expect(await redis.expire('e:a', 200, 'GT')).toBe(1);
    expect(await redis.ttl('e:a')).toBe(200);
    expect(await redis.pexpire('e:a', 5000)).toBe(1);
    expect(await redis.pttl('e:a')).toBeGreaterThan(4900);
    expect(await redis.expireat('e:a', Math.floor(Date.now() / 1000) + 1000)).toBe(1);
    expect(await redis.ttl('e:a')).toBeGreaterThan(990);
    expect(await redis.persist('e:a')).toBe(1);
    expect(await redis.persist('e:a')).toBe(0);
    expect(await redis.pexpireat('e:a', Date.now() - 1)).toBe(1);
    expect(await redis.exists('e:a')).toBe(0);
    expect(await redis.expire('e:nope', 10)).toBe(0);
  });

  it('SCAN with MATCH and COUNT visits every key once; KEYS; DBSIZE; FLUSHDB', async () => {
    const dir = newDir();
    const own = await startTestServer(dir);
    const client = new Redis({ port: own.port });
    try {
      const pipeline = client.pipeline();
      for (let i = 0; i < 500; i++) pipeline.set(`user:${i}`, String(i));
      for (let i = 0; i < 100; i++) pipeline.set(`other:${i}`, String(i));
      await pipeline.exec();
      const seen: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', 'user:*', 'COUNT', 37);
        seen.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      expect(seen.length).toBe(500);
      expect(new Set(seen).size).toBe(500);
      expect((await client.keys('other:1?')).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `other:1${i}`).sort());
      expect(await client.dbsize()).toBe(600);
      await expect(client.scan('12345678')).rejects.toThrow('ERR invalid cursor');
      expect(await client.flushdb()).toBe('OK');
      expect(await client.dbsize()).toBe(0);
      expect(await client.get('user:1')).toBeNull();
    } finally {
      client.disconnect();
      await own.close();
    }
  });

  it('answers a key over the engine limit with an error, and commits the writes pipelined beside it', async () => {
    const results = await redis.pipeline().set('limit:before', '1').set(Buffer.alloc(1024 * 1024 + 1, 120), 'v').set('limit:after', '2').exec();
    expect(results!.map(([err]) => err?.message ?? null)).toEqual([null, "ERR key of 1048577 bytes is over varve's limit of 1048576", null]);
    expect(await redis.mget('limit:before', 'limit:after')).toEqual(['1', '2']);
  });

  it('sees each pipelined command in issue order: 1,000 INCRs and a GET in one pipeline', async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.incr('p:counter');
    pipeline.get('p:counter');
    const results = await pipeline.exec();
    expect(results!.map(([err]) => err)).toEqual(Array(1001).fill(null));
    expect(results!.slice(0, 1000).map(([, v]) => v)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(results![1000]![1]).toBe('1000');
  });
});

describe('pipelined GETs', () => {
  // A run of pipelined GETs reads its keys from the store in one batch (Keyspace.withPrefetch); the answers must be those of one GET at a time.
  it('answers runs of GETs, longer than a batch, around writes, deletes, expiries and a malformed GET, in issue order', async () => {
    const stored = new Map<string, string>();
    for (let i = 0; i < 150; i++) stored.set(`pg:${i}`, `v${i}`);
    await redis.mset(Object.fromEntries(stored));
    await redis.set('pg:short', 'gone soon', 'PX', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const pipeline = redis.pipeline();
    const expected: Array<[string | null, string | null]> = [];
    const get = (key: string) => {
      pipeline.get(key);
      expected.push([null, stored.get(key) ?? null]);
    };
    for (let i = 0; i < 140; i++) get(`pg:${(i * 7) % 160}`);
    pipeline.set('pg:3', 'new');
    expected.push([null, 'OK']);
    stored.set('pg:3', 'new');
    pipeline.del('pg:4');
    expected.push([null, 1 as unknown as string]);
    stored.delete('pg:4');
    for (const key of ['pg:3', 'pg:4', 'pg:5', 'pg:short', 'pg:3']) get(key);
    pipeline.call('get', 'pg:5', 'extra');
    expected.push(["ERR wrong number of arguments for 'get' command", null]);
    for (let i = 0; i < 70; i++) get(`pg:${i}`);
    const results = await pipeline.exec();
    expect(results!.map(([err, value]) => [err === null ? null : (err as Error).message, value ?? null])).toEqual(expected);
  });
});

describe('connection and server commands', () => {
  it('PING, ECHO, SELECT, TIME, CLIENT, CONFIG GET, COMMAND, INFO', async () => {
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.ping('hi')).toBe('hi');
    expect(await redis.echo('x')).toBe('x');
    expect(await redis.select(0)).toBe('OK');
    await expect(redis.select(1)).rejects.toThrow('ERR DB index is out of range');
    const [seconds, micros] = (await redis.time()) as unknown as [string, string];
    expect(Math.abs(Number(seconds) - Date.now() / 1000)).toBeLessThan(5);
    expect(Number(micros)).toBeLessThan(1_000_000);
    expect(await redis.client('SETNAME', 'tester')).toBe('OK');
    expect(await redis.client('GETNAME')).toBe('tester');
    expect(typeof (await redis.client('ID'))).toBe('number');
    expect(await redis.client('LIST')).toMatch(/name=tester/);
    expect(await redis.config('GET', 'maxclients')).toEqual(['maxclients', '10000']);
    expect(await redis.config('GET', 'append*')).toEqual(['appendonly', 'yes', 'appendfsync', 'no']);
    expect(await redis.command('COUNT')).toBeGreaterThan(50);
    const [get] = (await redis.command('INFO', 'get')) as [unknown[]];
    expect(get.slice(0, 2)).toEqual(['get', 2]);
    const info = await redis.info();
    for (const section of ['# Server', '# Clients', '# Memory', '# Persistence', '# Stats', '# Replication', '# Keyspace', '# Varve']) expect(info).toContain(section);
    expect(info).toMatch(/connected_clients:\d+/);
    expect(await redis.info('keyspace')).toMatch(/db0:keys=\d+/);
  });

  it('answers an unknown command and a wrong arity with Redis errors, and stays up', async () => {
    await expect(redis.call('FROBNICATE', 'a', 'b')).rejects.toThrow("ERR unknown command 'FROBNICATE', with args beginning with: 'a' 'b'");
    await expect(redis.call('GET')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
    expect(await redis.ping()).toBe('PONG');
  });
});

describe('node-redis', () => {
  for (const RESP of [2, 3] as const) {
    it(`speaks RESP${RESP}: HELLO, strings, expiry, counters, SCAN, errors`, async () => {
      const client = createClient({ socket: { port: server.port, host: '127.0.0.1' }, RESP });
      client.on('error', () => {});
      await client.connect();
      try {
        expect(await client.set(`nr${RESP}:a`, 'v', { EX: 100 })).toBe('OK');
        expect(await client.get(`nr${RESP}:a`)).toBe('v');
        expect(await client.ttl(`nr${RESP}:a`)).toBe(100);
        expect(await client.incrBy(`nr${RESP}:n`, 5)).toBe(5);
        expect(await client.incrByFloat(`nr${RESP}:f`, 1.5)).toBe(RESP === 3 ? '1.5' : '1.5');
        expect(await client.mGet([`nr${RESP}:a`, `nr${RESP}:zz`])).toEqual(['v', null]);
        expect(await client.exists(`nr${RESP}:a`)).toBe(1);
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: `nr${RESP}:*`, COUNT: 2 })) keys.push(...batch);
        expect(keys.sort()).toEqual([`nr${RESP}:a`, `nr${RESP}:f`, `nr${RESP}:n`]);
        const hello = (await client.sendCommand(['HELLO', String(RESP)])) as unknown;
        const fields = hello instanceof Map ? Object.fromEntries(hello) : Array.isArray(hello) ? Object.fromEntries(Array.from({ length: hello.length / 2 }, (_, i) => [hello[2 * i], hello[2 * i + 1]])) : hello;
        expect(fields).toMatchObject({ server: 'redis', proto: RESP });
        await expect(client.incr(`nr${RESP}:a`)).rejects.toThrow('ERR value is not an integer or out of range');
      } finally {
        await client.quit();
      }
    });
  }
});

describe('safety', () => {
  it('requires AUTH when a password is set', async () => {
    const own = await startTestServer(newDir(), { requirepass: 's3cret' });
    try {
      // ioredis 6 opens with HELLO 3, which a server with a password refuses before AUTH (as Redis does).
      const hello = new Redis({ port: own.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      const errors: string[] = [];
      hello.on('error', (err: Error) => errors.push(err.message));
      await expect(hello.connect()).rejects.toThrow();
      expect(errors.some((m) => m.startsWith('NOAUTH HELLO must be called with the client already authenticated'))).toBe(true);
      hello.disconnect();
      // No ready check: its INFO would meet NOAUTH, as against Redis.
      const anonymous = new Redis({ port: own.port, lazyConnect: true, maxRetriesPerRequest: 0, protocol: 2, enableReadyCheck: false });
      await anonymous.connect();
      await expect(anonymous.get('a')).rejects.toThrow('NOAUTH Authentication required.');
      await expect(anonymous.auth('wrong')).rejects.toThrow('WRONGPASS');
      expect(await anonymous.auth('s3cret')).toBe('OK');
      expect(await anonymous.set('a', '1')).toBe('OK');
      anonymous.disconnect();
      // RESP3, authenticated in the HELLO.
      const authed = new Redis({ port: own.port, password: 's3cret' });
      expect(await authed.get('a')).toBe('1');
      authed.disconnect();
    } finally {
      await own.close();
    }
  });

  it('sizes the store by --memory-budget (512 MiB by default) and refuses one below 1 MiB', async () => {
    expect(server.db.stats().blockCache.capacity).toBe(128 * 1024 * 1024);
    const small = await startTestServer(newDir(), { memoryBudget: 8 * 1024 * 1024 });
    try {
      expect(small.db.stats().blockCache.capacity).toBe(2 * 1024 * 1024);
    } finally {
      await small.close();
    }
    await expect(startTestServer(newDir(), { memoryBudget: 1000 })).rejects.toThrow(/memory budget must be an integer/);
  });

  it('refuses to listen beyond loopback without a password', async () => {
    await expect(startTestServer(newDir(), { host: '0.0.0.0' })).rejects.toThrow(/refusing to listen on 0.0.0.0 without a password/);
  });

  it('answers garbage with a protocol error and closes that connection only', async () => {
    const raw = await rawClient(server.port);
    raw.socket.write('*abc\r\n');
    await raw.closed;
    expect(raw.received()).toBe('-ERR Protocol error: invalid multibulk length\r\n');
    const raw2 = await rawClient(server.port);
    raw2.socket.write('*1\r\n$-5\r\n');
    await raw2.closed;
    expect(raw2.received()).toMatch(/^-ERR Protocol error: invalid bulk length/);
    expect(await redis.ping()).toBe('PONG');
  });

  it('takes inline commands', async () => {
    const raw = await rawClient(server.port);
    raw.socket.write('SET inline "a b"\r\nGET inline\r\n');
    await until(() => raw.received().length >= 14);
    expect(raw.received()).toBe('+OK\r\n$3\r\na b\r\n');
    raw.socket.destroy();
  });

  it('refuses clients beyond maxclients and closes idle ones after the timeout', async () => {
    const own = await startTestServer(newDir(), { maxClients: 3, idleTimeoutSeconds: 1 });
    try {
      const clients = await Promise.all([1, 2, 3].map(() => rawClient(own.port)));
      const fourth = await rawClient(own.port);
      await fourth.closed;
      expect(fourth.received()).toBe('-ERR max number of clients reached\r\n');
      const started = Date.now();
      await Promise.all(clients.map((c) => c.closed));
      expect(Date.now() - started).toBeGreaterThan(500);
    } finally {
      await own.close();
    }
  });

  it('closes the store only once every client has gone, cutting off one that keeps its side open after a second', async () => {
    const own = await startTestServer(newDir());
    const socket = connect({ port: own.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString()));
    await once(socket, 'connect');
    socket.write('PING\r\n');
    await until(() => received === '+PONG\r\n');
    const ended = once(socket, 'end');
    const started = Date.now();
    const closed = own.close();
    // The server ends its side at once; this client keeps its own open, so the server waits for it.
    await ended;
    expect(own.db.getSync('still-open')).toBeUndefined();
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(() => own.db.getSync('still-open')).toThrow(/closed/);
    socket.destroy();
  });

  it('serves while 1,000 idle connections are open', async () => {
    const idle = await Promise.all(Array.from({ length: 1000 }, () => rawClient(server.port)));
    try {
      const connected = async () => Number(/connected_clients:(\d+)/.exec(await redis.info('clients'))![1]);
      for (let n = await connected(); n < 1001; n = await connected()) await new Promise((r) => setTimeout(r, 20));
      await redis.set('idle:probe', 'v');
      expect(await redis.get('idle:probe')).toBe('v');
    } finally {
      for (const c of idle) c.socket.destroy();
    }
  });

  it('stores and returns a 100 MiB value', async () => {
    const value = Buffer.alloc(100 * 1024 * 1024);
    for (let i = 0; i < value.length; i += 4096) value[i] = (i / 4096) & 0xff;
    expect(await redis.set('big', value)).toBe('OK');
    const back = await redis.getBuffer('big');
    expect(back!.length).toBe(value.length);
    expect(back!.equals(value)).toBe(true);
    expect(await redis.del('big')).toBe(1);
  }, 60_000);

  it('does not read from a client that does not read its replies, and serves others meanwhile', async () => {
    await redis.set('slow:v', Buffer.alloc(64 * 1024, 0x61));
    const processed = async () => Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))![1]);
    const before = await processed();
    const slow = await rawClient(server.port);
    slow.socket.pause();
    // 200,000 GETs of 64 KiB: 13 GB of replies if the server kept answering.
    const request = '*2\r\n$3\r\nGET\r\n$6\r\nslow:v\r\n';
    let written = 0;
    const writeMore = () => {
      while (written < 200_000 && slow.socket.write(request)) written++;
    };
    writeMore();
    slow.socket.on('drain', writeMore);
    await new Promise((r) => setTimeout(r, 500));
    // The server ran only the GETs whose replies fit in the socket buffers (tens); one 64 KiB chunk of requests holds 1,800.
    expect((await processed()) - before).toBeLessThan(1_000);
    expect(await redis.ping()).toBe('PONG');
    slow.socket.destroy();
  });
});

describe('metrics', () => {
  it('serves Prometheus metrics: process defaults, commands, latency, clients, engine', async () => {
    await redis.set('metric:a', 'v');
    await redis.get('metric:a');
    const body = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    expect(body).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(body).toMatch(/^varve_commands_total\{command="set"\} \d+/m);
    expect(body).toMatch(/^varve_command_duration_seconds_bucket\{le="0.001",command="get"\} \d+/m);
    expect(body).toMatch(/^varve_connected_clients [1-9]/m);
    expect(body).toMatch(/^varve_user_bytes_written_total [1-9]/m);
    expect(body).toMatch(/^varve_level_files\{level="0"\} \d+/m);
    expect(body).toMatch(/^varve_wal_syncs_total \d+/m);
  });

  it('counts each command once and keeps its latency histogram consistent with the count', async () => {
    const scrape = async () => {
      const body = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
      const sample = (pattern: string) => Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(body)?.[1]);
      const buckets = [...body.matchAll(/^varve_command_duration_seconds_bucket\{le="([^"]+)",command="strlen"\} (\d+)$/gm)].map(([, le, n]) => [le, Number(n)] as const);
      return {
        total: sample('varve_commands_total\\{command="strlen"\\}'),
        count: sample('varve_command_duration_seconds_count\\{command="strlen"\\}'),
        sum: sample('varve_command_duration_seconds_sum\\{command="strlen"\\}'),
        buckets,
        helps: body.match(/^# HELP varve_command_duration_seconds /gm)?.length,
      };
    };
    await redis.strlen('metric:a');
    const before = await scrape();
    for (let i = 0; i < 5; i++) await redis.strlen('metric:a');
    const after = await scrape();
    expect(after.helps).toBe(1);
    expect(after.total - before.total).toBe(5);
    expect(after.count).toBe(after.total);
    expect(after.sum).toBeGreaterThan(before.sum);
    expect(after.buckets.at(-1)).toEqual(['+Inf', after.count]);
    expect(after.buckets.map(([le]) => le)).toEqual(['0.00005', '0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '+Inf']);
    for (let i = 1; i < after.buckets.length; i++) expect(after.buckets[i]![1]).toBeGreaterThanOrEqual(after.buckets[i - 1]![1]);
  });

  it('times each GET of a pipelined run once, sharing out the run', async () => {
    const scrape = async () => {
      const body = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
      const sample = (pattern: string) => Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(body)?.[1] ?? 0);
      return {
        total: sample('varve_commands_total\\{command="get"\\}'),
        count: sample('varve_command_duration_seconds_count\\{command="get"\\}'),
        sum: sample('varve_command_duration_seconds_sum\\{command="get"\\}'),
      };
    };
    const before = await scrape();
    const pipeline = redis.pipeline();
    for (let i = 0; i < 100; i++) pipeline.get(`metric:run:${i}`);
    await pipeline.exec();
    const after = await scrape();
    expect(after.total - before.total).toBe(100);
    expect(after.count - before.count).toBe(100);
    expect(after.sum).toBeGreaterThan(before.sum);
  });
});
