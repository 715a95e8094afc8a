/**
 * gearmand's libsqlite3 queue, file-compatible: the same table (default `gearman_queue`, columns
 * unique_key, function_name, priority, data, when_to_run, primary key (unique_key, function_name)),
 * INSERT OR REPLACE to store, DELETE by unique and function when done, so either server replays a
 * file the other wrote. SQLite is node-sqlite3-wasm (WebAssembly, real file I/O: one build for
 * every Node version; docs/DECISIONS.md), in WAL mode with an exclusive lock.
 *
 * Changes are kept in order until commit() runs them in one transaction: one that stores a job is
 * synced to disk (synchronous=FULL) before it returns; one that only removes jobs is written but
 * synced with the next (synchronous=NORMAL): a killed server loses neither, a power cut may run a
 * finished job again, never lose a stored one.
 */
import { statSync } from 'node:fs';
import type sqlite from 'node-sqlite3-wasm';
import { InputError, UsageError } from '../../errors.ts';
import { clearStaleLock, removeOwner, writeOwner } from './queue-lock.ts';
import type { QueueStore, StoredJob } from './queue-store.ts';

export const DEFAULT_QUEUE_TABLE = 'gearman_queue';

export interface SqliteQueueOptions {
  file: string;
  /** gearmand's --libsqlite3-table (default gearman_queue). */
  table?: string;
  storeOnShutdown?: boolean;
  log?: (line: string) => void;
}

type Row = Record<string, unknown>;
type Change = { add: StoredJob } | { done: [fn: string, unique: string] };

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

export class SqliteQueue implements QueueStore {
  readonly file: string;
  readonly table: string;
  readonly storeOnShutdown: boolean;
  readonly #db: sqlite.Database;
  readonly #insert: sqlite.Statement;
  readonly #delete: sqlite.Statement;
  #changes: Change[] = [];
  #synchronous = '';
  #closed = false;

  /**
   * Opens (creating it if missing) and checks the file; throws one line naming it when it cannot be
   * used. SQLite is loaded here, not at import: compiling it costs every process that imports the
   * server (`gmr run`'s embedded one too) 50-100 ms.
   */
  static async open(options: SqliteQueueOptions): Promise<SqliteQueue> {
    const table = options.table ?? DEFAULT_QUEUE_TABLE;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
      throw new UsageError(`Queue table name must be letters, digits and _ (not starting with a digit), received "${table}"`);
    }
    const file = options.file;
    const info = statSync(file, { throwIfNoEntry: false });
    if (info?.isDirectory()) throw new InputError(`Queue file ${file} is a directory: expected an SQLite file (or a path to create one)`);
    if (clearStaleLock(file)) options.log?.(`removed the stale lock of ${file} (its server was killed)`);
    const { Database } = (await import('node-sqlite3-wasm')).default;
    let db: sqlite.Database | undefined;
    try {
      db = new Database(file);
      return new SqliteQueue(db, file, table, options.storeOnShutdown === true);
    } catch (error) {
      try {
        removeOwner(file);
        db?.close();
      } catch {
        // the file was never usable
      }
      if (error instanceof InputError) throw error;
      throw new InputError(`Queue file ${file} cannot be used as an SQLite queue: ${message(error)}`, { cause: error });
    }
  }

  private constructor(db: sqlite.Database, file: string, table: string, storeOnShutdown: boolean) {
    this.#db = db;
    this.file = file;
    this.table = table;
    this.storeOnShutdown = storeOnShutdown;
    // Exclusive first: WAL then needs no shared-memory file (which WebAssembly cannot map), and
    // the lock taken by the first read is held until close.
    db.exec('PRAGMA locking_mode=EXCLUSIVE');
    db.get('SELECT count(*) FROM sqlite_master');
    writeOwner(file);
    const mode = db.get('PRAGMA journal_mode=WAL');
    if (mode?.journal_mode !== 'wal') throw new InputError(`Queue file ${file}: cannot switch to WAL mode (journal_mode is ${String(mode?.journal_mode)})`);
    this.#prepareTable();
    this.#insert = db.prepare(`INSERT OR REPLACE INTO "${table}" (priority, unique_key, function_name, data, when_to_run) VALUES (?,?,?,?,?)`);
    this.#delete = db.prepare(`DELETE FROM "${table}" WHERE unique_key=? AND function_name=?`);
  }

  /** gearmand's check: create the table if missing; an old table without when_to_run gets it. */
  #prepareTable(): void {
    const db = this.#db;
    const exists = db.get("SELECT 1 AS found FROM sqlite_master WHERE type='table' AND name=?", [this.table]);
    if (!exists) {
      db.exec(`CREATE TABLE ${this.table} ( unique_key TEXT, function_name TEXT, priority INTEGER, data BLOB, when_to_run INTEGER, PRIMARY KEY (unique_key, function_name))`);
      return;
    }
    const columns = new Set(db.all(`PRAGMA table_info("${this.table}")`).map((c) => String(c.name)));
    const missing = ['unique_key', 'function_name', 'priority', 'data'].filter((c) => !columns.has(c));
    if (missing.length > 0) {
      throw new InputError(`Queue file ${this.file}: table ${this.table} lacks column(s) ${missing.join(', ')}: expected gearmand's (unique_key, function_name, priority, data, when_to_run)`);
    }
    if (!columns.has('when_to_run')) db.exec(`ALTER TABLE "${this.table}" ADD COLUMN when_to_run INTEGER`);
  }

  replay(): StoredJob[] {
    const rows = this.#db.all(`SELECT rowid AS id, unique_key, function_name, priority, data, when_to_run FROM "${this.table}" ORDER BY rowid`);
    return rows.map((row) => this.#toJob(row));
  }

  /** With storeOnShutdown, once the replayed jobs are in memory: the table is emptied (gearmand's way). */
  replayed(): void {
    if (this.storeOnShutdown) this.#db.exec(`DELETE FROM "${this.table}"`);
  }

  #toJob(row: Row): StoredJob {
    const where = `Queue file ${this.file}: table ${this.table} row ${String(row.id)}`;
    const { unique_key: unique, function_name: fn, priority, data, when_to_run: when } = row;
    if (typeof unique !== 'string') throw new InputError(`${where}: unique_key must be TEXT, received ${describe(unique)}`);
    if (typeof fn !== 'string' || fn === '') throw new InputError(`${where}: function_name must be non-empty TEXT, received ${describe(fn)}`);
    if (priority !== 0 && priority !== 1 && priority !== 2) throw new InputError(`${where}: priority must be 0 (high), 1 (normal) or 2 (low), received ${describe(priority)}`);
    let bytes: Buffer;
    if (data instanceof Uint8Array) bytes = Buffer.from(data);
    else if (typeof data === 'string') bytes = Buffer.from(data, 'utf8');
    else if (data === null) bytes = Buffer.alloc(0);
    else throw new InputError(`${where}: data must be a BLOB, received ${describe(data)}`);
    if (when !== null && (typeof when !== 'number' || !Number.isSafeInteger(when) || when < 0)) {
      throw new InputError(`${where}: when_to_run must be seconds since 1970 or 0, received ${describe(when)}`);
    }
    return { unique, fn, priority, data: bytes, whenSeconds: when ?? 0 };
  }

  add(job: StoredJob): void {
    if (!this.storeOnShutdown) this.#changes.push({ add: job });
  }

  done(fn: string, unique: string): void {
    if (!this.storeOnShutdown) this.#changes.push({ done: [fn, unique] });
  }

  /** --store-queue-on-shutdown: every live background job, in one transaction. */
  save(jobs: StoredJob[]): void {
    for (const job of jobs) this.#changes.push({ add: job });
    this.commit();
  }

  commit(): void {
    const changes = this.#changes;
    if (changes.length === 0) return;
    this.#changes = [];
    const db = this.#db;
    const synchronous = changes.some((c) => 'add' in c) ? 'FULL' : 'NORMAL';
    if (synchronous !== this.#synchronous) {
      db.exec(`PRAGMA synchronous=${synchronous}`);
      this.#synchronous = synchronous;
    }
    db.exec('BEGIN');
    try {
      for (const change of changes) {
        if ('add' in change) this.#insert.run([change.add.priority, change.add.unique, change.add.fn, change.add.data, change.add.whenSeconds]);
        else this.#delete.run([change.done[1], change.done[0]]);
      }
      db.exec('COMMIT');
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // SQLite rolled back already (a failed COMMIT)
      }
      throw error;
    }
  }

  /** Forgets the changes not committed (commit() failed: they were rolled back). */
  rollback(): void {
    this.#changes = [];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.commit();
    } finally {
      this.#insert.finalize();
      this.#delete.finalize();
      removeOwner(this.file);
      this.#db.close();
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return `TEXT ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'bigint') return `${String(value)}`;
  if (value instanceof Uint8Array) return `a BLOB of ${value.length} bytes`;
  return typeof value;
}
