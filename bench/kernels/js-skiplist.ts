// The pure-JS rivals for the memtable benchmark: the same skip list as
// assembly/skiplist.ts (max height 12, branching 1/4, xorshift32 heights,
// level-0 back pointers, internal-key order), written two ways a JS
// engineer would:
// - JsSkipList: nodes as objects holding the caller's Uint8Arrays (no copy);
// - JsArraySkipList: parallel typed arrays, keys copied into one growable
//   byte buffer (so a compare touches no per-key object), forward pointers
//   in one Int32Array pool. Values are kept by reference in both.
const MAX_HEIGHT = 12;

function randomHeight(x: number): number {
  if (x === 0) return MAX_HEIGHT;
  const ctz = 31 - Math.clz32(x & -x);
  return Math.min((ctz >>> 1) + 1, MAX_HEIGHT);
}

function xorshift(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

export class JsNode {
  prev: JsNode | null = null;
  readonly next: Array<JsNode | null>;
  constructor(
    readonly key: Uint8Array,
    readonly seq: number,
    readonly kind: number,
    readonly value: Uint8Array,
    height: number,
  ) {
    this.next = new Array<JsNode | null>(height).fill(null);
  }
}

/** User key ascending, then (seq, kind) descending. */
function compareNode(a: JsNode, key: Uint8Array, seq: number, kind: number): number {
  const ak = a.key;
  const n = ak.length < key.length ? ak.length : key.length;
  for (let i = 0; i < n; i++) {
    const d = ak[i]! - key[i]!;
    if (d !== 0) return d;
  }
  if (ak.length !== key.length) return ak.length - key.length;
  if (a.seq !== seq) return a.seq > seq ? -1 : 1;
  return kind - a.kind;
}

export class JsSkipList {
  readonly head = new JsNode(new Uint8Array(0), 0, 0, new Uint8Array(0), MAX_HEIGHT);
  tail: JsNode | null = null;
  count = 0;
  private height = 1;
  private rng = 0x2545f491;
  private readonly preds: JsNode[] = new Array<JsNode>(MAX_HEIGHT).fill(this.head);

  insert(key: Uint8Array, seq: number, kind: number, value: Uint8Array): void {
    const preds = this.preds;
    let x = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      let n = x.next[level]!;
      while (n !== null && compareNode(n, key, seq, kind) < 0) {
        x = n;
        n = x.next[level]!;
      }
      preds[level] = x;
    }
    this.rng = xorshift(this.rng);
    const height = randomHeight(this.rng);
    for (; this.height < height; this.height++) preds[this.height] = this.head;
    const node = new JsNode(key, seq, kind, value, height);
    for (let i = 0; i < height; i++) {
      node.next[i] = preds[i]!.next[i]!;
      preds[i]!.next[i] = node;
    }
    node.prev = preds[0] === this.head ? null : preds[0]!;
    const succ = node.next[0];
    if (succ) succ.prev = node;
    else this.tail = node;
    this.count++;
  }

  /** The newest entry of `key` with sequence <= snapshot, or null. */
  get(key: Uint8Array, snapshot: number): JsNode | null {
    let x = this.head;
    let n: JsNode | null = null;
    for (let level = this.height - 1; level >= 0; level--) {
      n = x.next[level]!;
      while (n !== null && compareNode(n, key, snapshot, 0xff) < 0) {
        x = n;
        n = x.next[level]!;
      }
    }
    if (n === null || n.key.length !== key.length) return null;
    for (let i = 0; i < key.length; i++) if (n.key[i] !== key[i]) return null;
    return n;
  }
}

/** Node 0 is the head; 0 in a link means the end. */
export class JsArraySkipList {
  count = 0;
  tail = 0;
  private height = 1;
  private rng = 0x2545f491;
  private keys = new Uint8Array(1 << 16);
  private keyEnd = 0;
  private keyStart = new Int32Array(1024);
  private keyLength = new Int32Array(1024);
  private seqs = new Float64Array(1024);
  private kinds = new Uint8Array(1024);
  private linkBase = new Int32Array(1024);
  readonly prev = new Int32Array(1024);
  private links = new Int32Array(4096);
  private linkEnd = MAX_HEIGHT;
  readonly values: Uint8Array[] = [new Uint8Array(0)];
  private readonly preds = new Int32Array(MAX_HEIGHT);

  /** Level-`level` successor of node `n`. */
  next(n: number, level: number): number {
    return this.links[this.linkBase[n]! + level]!;
  }

  key(n: number): Uint8Array {
    return this.keys.subarray(this.keyStart[n]!, this.keyStart[n]! + this.keyLength[n]!);
  }

  seq(n: number): number {
    return this.seqs[n]!;
  }

  /** Node `a` against the key at keys[start, start + len) with (seq, kind). */
  private compare(a: number, bytes: Uint8Array, start: number, len: number, seq: number, kind: number): number {
    const keys = this.keys;
    const as = this.keyStart[a]!;
    const al = this.keyLength[a]!;
    const n = al < len ? al : len;
    for (let i = 0; i < n; i++) {
      const d = keys[as + i]! - bytes[start + i]!;
      if (d !== 0) return d;
    }
    if (al !== len) return al - len;
    const aSeq = this.seqs[a]!;
    if (aSeq !== seq) return aSeq > seq ? -1 : 1;
    return kind - this.kinds[a]!;
  }

  private grow(): void {
    const cap = this.keyStart.length * 2;
    const widen = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.keyStart = widen(this.keyStart, (n) => new Int32Array(n));
    this.keyLength = widen(this.keyLength, (n) => new Int32Array(n));
    this.seqs = widen(this.seqs, (n) => new Float64Array(n));
    this.kinds = widen(this.kinds, (n) => new Uint8Array(n));
    this.linkBase = widen(this.linkBase, (n) => new Int32Array(n));
    (this as { prev: Int32Array }).prev = widen(this.prev, (n) => new Int32Array(n));
  }

  private reserve(keyBytes: number, linkCount: number): void {
    if (this.count + 2 > this.keyStart.length) this.grow();
    if (this.keyEnd + keyBytes > this.keys.length) {
      const keys = new Uint8Array(Math.max(this.keys.length * 2, this.keyEnd + keyBytes));
      keys.set(this.keys.subarray(0, this.keyEnd));
      this.keys = keys;
    }
    if (this.linkEnd + linkCount > this.links.length) {
      const links = new Int32Array(this.links.length * 2);
      links.set(this.links);
      this.links = links;
    }
  }

  insert(key: Uint8Array, seq: number, kind: number, value: Uint8Array): void {
    this.rng = xorshift(this.rng);
    const height = randomHeight(this.rng);
    this.reserve(key.length, height);
    const node = this.count + 1;
    const start = this.keyEnd;
    this.keys.set(key, start);
    this.keyEnd += key.length;
    this.keyStart[node] = start;
    this.keyLength[node] = key.length;
    this.seqs[node] = seq;
    this.kinds[node] = kind;
    this.values[node] = value;
    this.linkBase[node] = this.linkEnd;
    this.linkEnd += height;

    const links = this.links;
    const base = this.linkBase;
    const preds = this.preds;
    let x = 0;
    for (let level = this.height - 1; level >= 0; level--) {
      let n = links[base[x]! + level]!;
      while (n !== 0 && this.compare(n, this.keys, start, key.length, seq, kind) < 0) {
        x = n;
        n = links[base[x]! + level]!;
      }
      preds[level] = x;
    }
    for (; this.height < height; this.height++) preds[this.height] = 0;
    for (let i = 0; i < height; i++) {
      const p = base[preds[i]!]! + i;
      links[base[node]! + i] = links[p]!;
      links[p] = node;
    }
    this.prev[node] = preds[0]!;
    const succ = links[base[node]!]!;
    if (succ !== 0) this.prev[succ] = node;
    else this.tail = node;
    this.count++;
  }

  /** The newest entry of `key` with sequence <= snapshot, or 0. */
  get(key: Uint8Array, snapshot: number): number {
    const links = this.links;
    const base = this.linkBase;
    let x = 0;
    let n = 0;
    for (let level = this.height - 1; level >= 0; level--) {
      n = links[base[x]! + level]!;
      while (n !== 0 && this.compare(n, key, 0, key.length, snapshot, 0xff) < 0) {
        x = n;
        n = links[base[x]! + level]!;
      }
    }
    if (n === 0 || this.keyLength[n] !== key.length) return 0;
    const keys = this.keys;
    const s = this.keyStart[n]!;
    for (let i = 0; i < key.length; i++) if (keys[s + i] !== key[i]) return 0;
    return n;
  }
}
