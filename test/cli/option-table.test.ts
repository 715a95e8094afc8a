/**
 * Every command reads its flags through one option table: a bad flag is one line naming it and
 * pointing at the command's --help, with exit code 2, and --help lists the table's flags.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { commandTable, helpText, parseCommand } from '../../src/cli/option-table.ts';
import { UsageError } from '../../src/errors.ts';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await main(args, { stdout: out, stderr: err, isTTY: false, env: {} });
  return { code, stdout, stderr };
}

const COMMANDS = ['run', 'worker', 'server', 'jobs', 'status', 'dashboard'];

describe('option table', () => {
  it.each(COMMANDS)('gmr %s --bogus exits 64 with one line', async (command) => {
    const r = await cli([command, '--bogus']);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`gmr: Unknown option '--bogus'; see gmr ${command} --help\n`);
  });

  it.each(COMMANDS)('gmr %s --help prints "Usage: gmr %s" and exits 0', async (command) => {
    const r = await cli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`Usage: gmr ${command}`)).toBe(true);
    expect(r.stdout).toContain('-h, --help');
  });

  it('makes a value that starts with a dash one line too, with the way to write it', async () => {
    const r = await cli(['worker', '--jobs', 'wordcount', '--concurrency', '-1']);
    expect(r.code).toBe(64);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("Option '--concurrency' argument is ambiguous");
    expect(r.stderr).toContain("'--concurrency=-XYZ'");
  });

  const table = commandTable({
    name: 'demo',
    usage: 'gmr demo [options]',
    positionals: true,
    flags: {
      size: { type: 'string', value: 'N', default: '3', help: 'how many', section: 'Shape' },
      tag: { type: 'string', multiple: true, value: 'T', help: 'a tag; repeatable', section: 'Shape' },
      name: { type: 'string', value: 'NAME', help: 'first line\nsecond line' },
      loud: { type: 'boolean', short: 'l', help: 'say it loud' },
    },
  });

  it('fills defaults: string defaults, empty lists, false booleans, undefined otherwise', () => {
    expect(parseCommand(table, ['x'])).toEqual({ values: { size: '3', tag: [], name: undefined, loud: false }, positionals: ['x'], help: false });
    expect(parseCommand(table, ['--tag', 'a', '-l', '--tag', 'b', '--size', '9']).values).toEqual({ size: '9', tag: ['a', 'b'], name: undefined, loud: true });
    expect(parseCommand(table, ['-h']).help).toBe(true);
    expect(() => parseCommand(table, ['--size'])).toThrow(UsageError);
  });

  it('prints sections in order, defaults after the help, continuation lines aligned', () => {
    expect(helpText(table)).toBe(
      [
        'Usage: gmr demo [options]',
        '',
        'Shape:',
        '      --size N          how many [default: 3]',
        '      --tag T           a tag; repeatable',
        '',
        'Options:',
        '      --name NAME       first line',
        '                        second line',
        '  -l, --loud            say it loud',
        '  -h, --help            show this help',
        '',
      ].join('\n'),
    );
  });
});
