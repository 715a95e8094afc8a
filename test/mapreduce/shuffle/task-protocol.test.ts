/**
 * The L (task log) and S (task status) result frames from a stranger's worker: well-formed ones
 * decode, a status is cut at 1000 characters, anything else is one TaskError naming what came.
 */
import { describe, expect, it } from 'vitest';
import { TaskError } from '../../../src/errors.ts';
import { decodeFrame, logCutFrame, logFrame, statusFrame } from '../../../src/mapreduce/shuffle/task-protocol.ts';

describe('L and S result frames', () => {
  it('decode what gmr workers send', () => {
    expect(decodeFrame(logFrame('out', Buffer.from('hello\n')))).toEqual({ kind: 'log', stream: 'out', data: Buffer.from('hello\n') });
    expect(decodeFrame(Buffer.from('L err\nwarn\n'))).toEqual({ kind: 'log', stream: 'err', data: Buffer.from('warn\n') });
    expect(decodeFrame(logCutFrame(1234))).toEqual({ kind: 'logCut', bytes: 1234 });
    expect(decodeFrame(statusFrame('line 12 of 4000 é'))).toEqual({ kind: 'status', text: 'line 12 of 4000 é' });
    expect(decodeFrame(Buffer.from('S\n'))).toEqual({ kind: 'status', text: '' });
  });

  it('cut a long status at 1000 characters', () => {
    const frame = decodeFrame(Buffer.from(`S\n${'é'.repeat(5000)}`));
    expect(frame).toEqual({ kind: 'status', text: 'é'.repeat(1000) });
  });

  it.each(['L\nx', 'L bogus\nx', 'L cut\n', 'L cut -1\n', 'L cut 1.5\n', 'S x\ny'])('refuse %j with one line naming it', (text) => {
    const error = (() => {
      try {
        decodeFrame(Buffer.from(text));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TaskError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain(JSON.stringify(text.slice(0, text.indexOf('\n'))));
  });
});
