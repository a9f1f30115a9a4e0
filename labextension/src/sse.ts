/** Incremental parser for `text/event-stream` (the WHATWG server-sent events format). */

export interface SseEvent {
  event: string;
  data: string;
}

/** Feed decoded text chunks as they arrive; complete events come back, partial lines wait for more. */
export class SseParser {
  private buffer = '';
  private eventType = '';
  private data: string[] = [];

  feed(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    // A trailing '\r' may be the first half of '\r\n': keep it until the next chunk says.
    for (;;) {
      const match = /\r\n|\n|\r(?!$)/.exec(this.buffer);
      if (!match) {
        break;
      }
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) {
        events.push(event);
      }
    }
    return events;
  }

  /** The stream ended: an event without its blank line is dropped, as the standard says. */
  end(): SseEvent[] {
    this.buffer = '';
    this.data = [];
    this.eventType = '';
    return [];
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (this.data.length === 0) {
        this.eventType = '';
        return null;
      }
      const event = { event: this.eventType || 'message', data: this.data.join('\n') };
      this.eventType = '';
      this.data = [];
      return event;
    }
    if (line.startsWith(':')) {
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (field === 'event') {
      this.eventType = value;
    } else if (field === 'data') {
      this.data.push(value);
    }
    return null;
  }
}

/** Parse a whole event-stream body at once (tests, and servers that do not stream). */
export function parseEventStream(text: string): SseEvent[] {
  const parser = new SseParser();
  return parser.feed(text.endsWith('\n') ? text : text + '\n');
}
