/**
 * Streaming commands are words, never a shell line: how a --mapper text splits, what it refuses
 * (with the way to ask for a shell), and that the job name follows the words, not their spacing.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.ts';
import { checkStreamingSpec, commandText, splitCommand, streamingJobName, streamingWorkerArgs } from '../../../src/mapreduce/job/streaming-job.ts';

describe('splitCommand', () => {
  it('splits words as a shell does, quotes and backslashes included, and expands nothing', () => {
    expect(splitCommand('python3 map.py', '--mapper')).toEqual(['python3', 'map.py']);
    expect(splitCommand("  awk  -F '\\t' '{ print $1 }' ", '--mapper')).toEqual(['awk', '-F', '\\t', '{ print $1 }']);
    expect(splitCommand('grep "a b" c\\ d', '--mapper')).toEqual(['grep', 'a b', 'c d']);
    expect(splitCommand('sh -c \'cut -f1 | uniq -c\'', '--reducer')).toEqual(['sh', '-c', 'cut -f1 | uniq -c']);
    expect(splitCommand('echo "say \\"hi\\""', '--mapper')).toEqual(['echo', 'say "hi"']);
    expect(splitCommand("x ''", '--mapper')).toEqual(['x', '']);
  });

  it.each([
    ['cut -f1 | sort', '|'],
    ['cat > out.txt', '>'],
    ['echo $HOME', '$'],
    ['ls *.txt', '*'],
    ['a; rm -rf x', ';'],
    ['cat `which x`', '`'],
  ])('refuses %j with one line that says how to ask for a shell', (text, char) => {
    let error: unknown;
    try {
      splitCommand(text, '--mapper');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as Error).message;
    expect(message).toContain(`an unquoted ${char}`);
    expect(message).toContain(`--mapper "sh -c '${text}'"`);
    expect(message).not.toContain('\n');
  });

  it('refuses an expansion inside double quotes, an open quote and an empty command', () => {
    expect(() => splitCommand('echo "$USER"', '--mapper')).toThrow(/\$ inside "…"/);
    expect(() => splitCommand("echo 'open", '--mapper')).toThrow(/closing '/);
    expect(() => splitCommand('   ', '--reducer')).toThrow(/--reducer expects a command/);
  });
});

describe('streaming specs', () => {
  it('name the same job for the same words, another for other words', () => {
    const a = checkStreamingSpec({ mapper: splitCommand('python3  map.py', '--mapper'), reducer: ['cat'], separator: '\t', keyFields: 1 });
    const b = checkStreamingSpec({ mapper: ['python3', 'map.py'], reducer: ['cat'], separator: '\t', keyFields: 1 });
    expect(streamingJobName(a)).toBe(streamingJobName(b));
    expect(streamingJobName(a)).toMatch(/^stream-[0-9a-f]{12}$/);
    expect(streamingJobName({ ...a, reducer: ['sort'] })).not.toBe(streamingJobName(a));
    expect(streamingJobName({ ...a, keyFields: 2 })).not.toBe(streamingJobName(a));
  });

  it('gives the worker flags back as words that split to the same commands', () => {
    const spec = checkStreamingSpec({ mapper: ['sh', '-c', "tr ' ' '\\n'"], reducer: ['uniq', '-c'], separator: ',', keyFields: 2 });
    const args = streamingWorkerArgs(spec);
    expect(args.slice(0, 2)).toEqual(['--streaming', '--mapper']);
    expect(splitCommand(args[2] as string, '--mapper')).toEqual(spec.mapper);
    expect(args).toContain('--separator');
    expect(commandText(['a b', "it's"])).toBe("'a b' 'it'\\''s'");
  });

  it('refuses a combiner without a reducer and a bad separator', () => {
    expect(() => checkStreamingSpec({ mapper: ['cat'], combiner: ['cat'], separator: '\t', keyFields: 1 })).toThrow(/--combiner needs --reducer/);
    expect(() => checkStreamingSpec({ mapper: ['cat'], separator: '', keyFields: 1 })).toThrow(/--separator/);
    expect(() => checkStreamingSpec({ mapper: ['cat'], separator: '\t', keyFields: 0 })).toThrow(/--key-fields/);
  });
});
