/**
 * The signatures of docs/WIRE.md ("Signatures"), checked against python3's hmac module: a worker
 * in another language that follows the page computes the same bytes.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ResultMac, signTask, verifyTask } from '../../src/mapreduce/shuffle/task-auth.ts';
import { decodeTask } from '../../src/mapreduce/shuffle/task-protocol.ts';

const SECRET = 'correct horse battery staple 42';

/** python3: HMAC-SHA256 hex of the concatenated hex-encoded parts. */
function pythonHmac(parts: Buffer[]): string {
  const script = 'import hmac, hashlib, sys\nprint(hmac.new(sys.argv[1].encode(), b"".join(bytes.fromhex(p) for p in sys.argv[2:]), hashlib.sha256).hexdigest())';
  return execFileSync('python3', ['-c', script, SECRET, ...parts.map((p) => p.toString('hex'))], { encoding: 'utf8' }).trim();
}

describe('task signatures', () => {
  const header = Buffer.from('{"v":3,"unique":"gmr:abc:m:0","run":"abc","job":"wordcount","task":0}\nbody bytes \u00e9');

  it('prefix the payload with HMAC-SHA256("gmr-task-v3\\n" + rest) in hex, as python3 computes it', () => {
    const signed = signTask(Buffer.from(SECRET), header);
    const expected = pythonHmac([Buffer.from('gmr-task-v3\n'), header]);
    expect(signed.subarray(0, 65).toString('latin1')).toBe(`${expected}\n`);
    expect(signed.subarray(65).equals(header)).toBe(true);
    expect(verifyTask(Buffer.from(SECRET), signed).equals(header)).toBe(true);
  });

  it('refuses unsigned, mis-signed and changed payloads without echoing them', () => {
    const secret = Buffer.from(SECRET);
    const unsigned = Buffer.from('{"v":3,"split":{"path":"/etc/shadow"}}\n');
    expect(() => verifyTask(secret, unsigned)).toThrow(/^Refused an unsigned task: expected a first line of 64 hex digits/);
    const other = signTask(Buffer.from('another secret, 16+ bytes long'), header);
    expect(() => verifyTask(secret, other)).toThrow(/^Refused a task whose signature does not verify/);
    const changed = Buffer.from(signTask(secret, header));
    changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 1, changed.length - 1);
    for (const payload of [unsigned, other, changed]) {
      try {
        decodeTask(payload, secret);
        expect.unreachable();
      } catch (error) {
        expect((error as Error).message).not.toMatch(/shadow|wordcount|body/);
      }
    }
  });
});

describe('result signatures', () => {
  it('MAC the whole stream bound to the unique key and the attempt, as python3 computes it', () => {
    const unique = 'gmr:abc:r:1:2.0f0f0f0f';
    const frames = [Buffer.from('B attempt-7\n'), Buffer.from('O\nword\t3\n'), Buffer.from('O\n\u00fcber\t1\n')];
    const summary = Buffer.from('{"keys":2}');
    const signer = new ResultMac(Buffer.from(SECRET), unique);
    for (const f of frames) signer.frame(f);
    const sealed = signer.seal('C', summary);
    const parts = [Buffer.from(`gmr-result-v3\n${unique}\n`)];
    for (const f of frames) parts.push(Buffer.from(`${f.length}\n`), f);
    parts.push(Buffer.from('C\n'), summary);
    expect(sealed.toString('latin1', 0, 65)).toBe(`${pythonHmac(parts)}\n`);

    const verify = (kind: 'C' | 'X', data: Buffer, under = unique, stream = frames): Buffer | undefined => {
      const mac = new ResultMac(Buffer.from(SECRET), under);
      for (const f of stream) mac.frame(f);
      return mac.open(kind, data);
    };
    expect(verify('C', sealed)?.equals(summary)).toBe(true);
    // Another unique key, another attempt's B frame, a dropped frame, or the exception tag: refused.
    expect(verify('C', sealed, 'gmr:abc:r:1')).toBeUndefined();
    expect(verify('C', sealed, unique, [Buffer.from('B attempt-8\n'), ...frames.slice(1)])).toBeUndefined();
    expect(verify('C', sealed, unique, frames.slice(0, 2))).toBeUndefined();
    expect(verify('X', sealed)).toBeUndefined();
    expect(verify('C', summary)).toBeUndefined();
  });
});
