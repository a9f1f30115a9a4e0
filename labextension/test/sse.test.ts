import { describe, expect, it } from 'vitest';

import { readAnswerStream } from '../src/api';
import { parseEventStream, SseParser } from '../src/sse';

describe('SseParser', () => {
  it('parses token events then the answer', () => {
    const events = parseEventStream('event: token\ndata: {"text":"Hel"}\n\nevent: token\ndata: {"text":"lo"}\n\nevent: answer\ndata: {"answer":"Hello","citations":[]}\n\n');
    expect(events.map(e => e.event)).toEqual(['token', 'token', 'answer']);
    expect(JSON.parse(events[2].data).answer).toBe('Hello');
  });

  it('joins events split across chunks at any byte, including CRLF halves', () => {
    const text = 'event: token\r\ndata: {"text":"a"}\r\n\r\nevent: answer\r\ndata: {"answer":"a"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.feed(text.slice(0, cut)), ...parser.feed(text.slice(cut))];
      expect(events.map(e => e.event)).toEqual(['token', 'answer']);
    }
  });

  it('joins multi-line data, skips comments, defaults the event name', () => {
    const events = parseEventStream(': keep-alive\ndata: line1\ndata: line2\n\n');
    expect(events).toEqual([{ event: 'message', data: 'line1\nline2' }]);
  });

  it('drops an event left without its blank line at the end', () => {
    const parser = new SseParser();
    expect(parser.feed('event: token\ndata: {"text":"x"}\n')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });
});

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(encoder.encode(chunk));
      }
      controller.close();
    }
  });
}

describe('readAnswerStream', () => {
  it('reports tokens as they come and returns the final answer with citations', async () => {
    const seen: string[] = [];
    const answer = await readAnswerStream(
      streamOf(['event: token\ndata: {"text":"Use "}\n\nevent: to', 'ken\ndata: {"text":"tx"}\n\n', 'event: answer\ndata: {"answer":"Use tx","citations":[{"kind":"table","name":"tx"}]}\n\n']),
      t => seen.push(t)
    );
    expect(seen).toEqual(['Use ', 'tx']);
    expect(answer.citations[0].name).toBe('tx');
  });

  it('turns an error event into an ApiError', async () => {
    await expect(readAnswerStream(streamOf(['event: error\ndata: {"error":{"code":"engine_unavailable","message":"index missing"}}\n\n']), () => undefined)).rejects.toThrow('index missing');
  });

  it('fails clearly when the stream ends with nothing', async () => {
    await expect(readAnswerStream(streamOf([]), () => undefined)).rejects.toThrow(/ended before an answer/);
  });
});
