/**
 * Admin safety (issue 16 item 4): `shutdown` only with allowShutdown, and names that could forge
 * admin rows (control characters) or grow memory (over 8 KiB) refused where they enter.
 */
import { describe, expect, it } from 'vitest';
import { useJobServers } from '../helpers/job-servers.ts';
import { adminRaw } from '../helpers/packet-socket.ts';

const { listen, open } = useJobServers();

describe('admin shutdown needs allowShutdown', () => {
  it('without it, `shutdown` and `shutdown graceful` get ERR SHUTDOWN_DISABLED and the server keeps serving', async () => {
    const server = await listen();
    let shutdowns = 0;
    server.on('shutdown', () => shutdowns++);
    for (const line of ['shutdown', 'shutdown graceful', 'SHUTDOWN']) {
      expect(await adminRaw(server.port, line)).toBe(
        'ERR SHUTDOWN_DISABLED shutdown+is+not+allowed+on+this+server+(start+it+with+allowShutdown+or+gmr+server+--allow-shutdown)\r\n',
      );
    }
    const c = await open(server);
    c.send({ type: 'ECHO_REQ', data: Buffer.from('still here') });
    expect((await c.expect('ECHO_RES')).data.toString()).toBe('still here');
    expect(shutdowns).toBe(0);
  });
});

describe('names that could forge admin output or grow memory', () => {
  it('CAN_DO with a tab or newline in the name: ERROR INVALID_FUNCTION_NAME, nothing registered, status not forged', async () => {
    const server = await listen();
    const w = await open(server);
    w.send({ type: 'CAN_DO', fn: 'evil\t9\t9\t9\nfake' });
    const error = await w.expect('ERROR');
    expect(error.code).toBe('INVALID_FUNCTION_NAME');
    expect(error.text).toBe('Function name must not contain control characters, received 0x09 in "evil\\t9\\t9\\t9\\nfake"');
    w.send({ type: 'CAN_DO', fn: 'fine' });
    w.send({ type: 'ECHO_REQ', data: Buffer.from('x') });
    await w.expect('ECHO_RES');
    expect(await adminRaw(server.port, 'status')).toBe('fine\t0\t0\t1\n.\n');
  });

  it('a submit with a control character in the function or the unique is refused with an ERROR', async () => {
    const server = await listen();
    const c = await open(server);
    c.send({ type: 'SUBMIT_JOB_BG', fn: 'f\u0007', unique: '', data: Buffer.from('x') });
    expect((await c.expect('ERROR')).code).toBe('INVALID_FUNCTION_NAME');
    c.send({ type: 'SUBMIT_JOB_BG', fn: 'f', unique: 'u\nfake-unique', data: Buffer.from('x') });
    const error = await c.expect('ERROR');
    expect([error.code, error.text]).toEqual(['INVALID_ARGUMENT', 'Unique must not contain control characters, received 0x0a in "u\\nfake-unique"']);
    expect(await adminRaw(server.port, 'show unique jobs')).toBe('.\n');
    expect(await adminRaw(server.port, 'status')).toBe('.\n');
  });

  it('`create function` with a tab: ERR INVALID_FUNCTION_NAME; SET_CLIENT_ID control characters show as ?', async () => {
    const server = await listen();
    expect(await adminRaw(server.port, 'create function a\tb')).toMatch(/^ERR INVALID_FUNCTION_NAME Function\+name\+must\+not\+contain\+control\+characters,\+received\+0x09\+in\+"a\\tb"\r\n$/);
    const w = await open(server);
    w.send({ type: 'SET_CLIENT_ID', id: 'id\n9 6.6.6.6 fake :' });
    w.send({ type: 'ECHO_REQ', data: Buffer.from('x') });
    await w.expect('ECHO_RES');
    const lines = (await adminRaw(server.port, 'workers')).split('\n');
    expect(lines.filter((l) => l.includes('fake'))).toEqual([expect.stringMatching(/^\d+ 127\.0\.0\.1 id\?9 6\.6\.6\.6 fake : :$/)]);
  });

  it('an 8192-byte function name registers; 8193 bytes get ERROR ARGUMENT_TOO_LARGE and nothing is kept', async () => {
    const server = await listen();
    const w = await open(server);
    w.send({ type: 'CAN_DO', fn: 'a'.repeat(8192) });
    w.send({ type: 'CAN_DO', fn: 'b'.repeat(8193) });
    const error = await w.expect('ERROR');
    expect([error.code, error.text]).toEqual(['ARGUMENT_TOO_LARGE', 'Function name must be at most 8192 bytes, received 8193']);
    const status = await adminRaw(server.port, 'status');
    expect(status).toBe(`${'a'.repeat(8192)}\t0\t0\t1\n.\n`);
  });
});

describe('gmr roles refuse such names before sending them', () => {
  it('Client.submit and Worker.register throw naming the control character or the size', async () => {
    const { Client } = await import('../../src/client/client.ts');
    const { Worker } = await import('../../src/worker/worker.ts');
    const server = await listen();
    const client = new Client({ servers: [server.address] });
    const worker = new Worker({ servers: [server.address] });
    try {
      expect(() => client.submit('a\tb', 'x')).toThrow('fn must not contain control characters, received 0x09 in "a\\tb"');
      expect(() => client.submit('c'.repeat(8193), 'x')).toThrow('fn must be at most 8192 bytes, received 8193');
      expect(() => worker.register('a\nb', () => '')).toThrow('Function name must not contain control characters, received 0x0a in "a\\nb"');
    } finally {
      await client.close();
      await worker.close();
    }
  });
});
