/**
 * gearmand's libsqlite3 queue file, read and written by python3's sqlite3 module (a reader and
 * writer independent of gmr): the table gearmand 1.1.20 creates, its rows in stored order.
 */
import { execFileSync } from 'node:child_process';

/** The statement gearmand's libgearman-server/plugins/queue/sqlite/instance.cc runs (table gearman_queue). */
export const GEARMAND_CREATE_TABLE =
  'CREATE TABLE gearman_queue ( unique_key TEXT, function_name TEXT, priority INTEGER, data BLOB, when_to_run INTEGER, PRIMARY KEY (unique_key, function_name))';

export interface QueueRow {
  unique: string;
  fn: string;
  priority: number;
  /** The data column as text (the tests store text). */
  data: string;
  when: number | null;
}

const READ = `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
t = sys.argv[2]
sql = c.execute("select sql from sqlite_master where type='table' and name=?", (t,)).fetchone()
rows = c.execute(f'select unique_key, function_name, priority, typeof(data), data, when_to_run from "{t}" order by rowid').fetchall()
print(json.dumps({"sql": sql[0] if sql else None, "rows": [
  {"unique": u, "fn": f, "priority": p, "type": ty, "data": (d.decode() if isinstance(d, bytes) else d), "when": w} for (u, f, p, ty, d, w) in rows]}))
`;

/** The table's CREATE statement and rows (data must be a BLOB, as gearmand writes and reads it). */
export function readQueueFile(file: string, table = 'gearman_queue'): { sql: string | null; rows: QueueRow[] } {
  const out = JSON.parse(execFileSync('python3', ['-c', READ, file, table], { encoding: 'utf8' })) as {
    sql: string | null;
    rows: Array<QueueRow & { type: string }>;
  };
  for (const row of out.rows) if (row.type !== 'blob') throw new Error(`data of ${row.unique} is ${row.type}, gearmand needs a blob`);
  return { sql: out.sql, rows: out.rows.map(({ unique, fn, priority, data, when }) => ({ unique, fn, priority, data, when })) };
}

const WRITE = `
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
spec = json.loads(sys.argv[2])
c.execute(spec["create"])
for r in spec["rows"]:
    c.execute('insert into gearman_queue (unique_key, function_name, priority, data, when_to_run) values (?,?,?,?,?)',
              (r["unique"], r["fn"], r["priority"], r["data"].encode() if isinstance(r["data"], str) else r["data"], r["when"]))
c.commit()
`;

/** A queue file as gearmand would have left it (`rows` in stored order; data as text becomes a BLOB). */
export function writeQueueFile(file: string, rows: Array<Omit<QueueRow, 'data'> & { data: string | number | null }>, create = GEARMAND_CREATE_TABLE): void {
  execFileSync('python3', ['-c', WRITE, file, JSON.stringify({ create, rows })]);
}
