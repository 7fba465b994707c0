// CLI progress (issue 16.7): a spinner with elapsed seconds on a terminal, erased at the end; nothing when
// stderr is not a terminal, and nothing for work that ends before the delay.
import { describe, expect, it } from 'vitest';
import { progressLine, withProgress } from './progress.js';

function stream(isTTY: boolean): { isTTY: boolean; write(text: string): void; text: string } {
  return {
    isTTY,
    text: '',
    write(text: string) {
      this.text += text;
    },
  };
}

const after = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('withProgress', () => {
  it('shows the label with elapsed seconds on a terminal while the work lasts, then erases the line', async () => {
    const tty = stream(true);
    const result = await withProgress('waiting for every node to apply', async () => {
      await after(200);
      return 42;
    }, tty, { delayMs: 10, intervalMs: 20 });
    expect(result).toBe(42);
    expect(tty.text).toContain('waiting for every node to apply (0 s)');
    expect(tty.text.endsWith('\r\u001b[K')).toBe(true);
  });

  it('writes nothing when the stream is not a terminal, and passes errors through', async () => {
    const pipe = stream(false);
    await expect(withProgress('x', async () => {
      await after(50);
      throw new Error('refused');
    }, pipe, { delayMs: 0, intervalMs: 5 })).rejects.toThrow('refused');
    expect(pipe.text).toBe('');
    await withProgress('x', async () => after(30), undefined, { delayMs: 0 });
  });

  it('writes nothing for work that ends before the delay', async () => {
    const tty = stream(true);
    await withProgress('quick', async () => 'done', tty, { delayMs: 1000 });
    expect(tty.text).toBe('');
  });

  it('formats a spinner frame with whole seconds', () => {
    expect(progressLine('removing node 3', 3_900, 1)).toBe('\r\u001b[K⠙ removing node 3 (3 s)');
  });
});
