import type { LogFollow } from './state.ts';

/**
 * The rules of following a replica's logs, kept apart from the stream's I/O so they are tested as
 * they are: the stream's address (the Kubernetes face's `log?follow=true`, the stream `kubectl logs
 * -f` and `berth logs -f` read), bytes to lines (UTF-8 split anywhere across chunks, a last line
 * held back until its newline arrives), the bounded window of lines a followed view keeps, whether
 * the view is scrolled to its end, and what a stream that ended says.
 *
 * Self-contained: served to the browser as `${createLogFollow}` and called by the app.
 */
export function createLogFollow() {
  /** Lines a followed view keeps: a chatty container must not grow the page without end. */
  const MAX_LINES = 2000;
  /** Lines a follow starts with: as many as a snapshot shows. */
  const TAIL = 100;
  /**
   * A stream that closes this soon after it opened, while its replica runs, was never going to
   * follow: the server asks the agent again every second and ends a running pod's follow only
   * when the pod is gone or the client leaves, but a control plane on Cloudflare Workers closes
   * its database handle once the response has started (its next read fails), and an agent older
   * than the control plane sends unstamped lines, which the server answers once and ends.
   */
  const QUICK_END_MS = 3000;

  /**
   * `GET /api/v1/namespaces/{ns}/pods/{replica}/log?follow=true`: the last TAIL lines, then each
   * line as it is written. The face reads one container: name it when the pod has several.
   */
  function followPath(ns: string, replica: string, container?: string, tail = TAIL): string {
    const enc = encodeURIComponent;
    const query = `follow=true&tailLines=${tail}${container ? `&container=${enc(container)}` : ''}`;
    return `/api/v1/namespaces/${enc(ns)}/pods/${enc(replica)}/log?${query}`;
  }

  /**
   * Bytes in, whole lines out. A chunk may end inside a UTF-8 sequence (the decoder keeps the
   * bytes it cannot decode yet) or inside a line (kept until its newline comes, or the stream
   * ends). A CR before the newline (a program writing CRLF) is not part of the line.
   */
  function lineSplitter() {
    const decoder = new TextDecoder();
    let partial = '';
    const trimCr = (l: string) => (l.endsWith('\r') ? l.slice(0, -1) : l);
    function take(text: string): string[] {
      if (!text) return [];
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      return parts.map(trimCr);
    }
    return {
      push: (bytes: Uint8Array): string[] => take(decoder.decode(bytes, { stream: true })),
      /** The stream ended: what the decoder still held, and a last line that had no newline. */
      end(): string[] {
        const lines = take(decoder.decode());
        const last = partial;
        partial = '';
        return last ? [...lines, trimCr(last)] : lines;
      },
    };
  }

  /** `lines` then `more`, the last `max` of them; `lines` itself when nothing is added. */
  function keepLast(lines: string[], more: string[], max = MAX_LINES): string[] {
    if (!more.length) return lines;
    const all = [...lines, ...more];
    return all.length > max ? all.slice(all.length - max) : all;
  }

  /**
   * Whether a scrolled view shows its last line (give or take a few pixels of rounding): new lines
   * scroll it along only then, so someone reading further up is not pulled away.
   */
  function atBottom(scrollTop: number, scrollHeight: number, clientHeight: number): boolean {
    return scrollHeight - scrollTop - clientHeight <= 8;
  }

  /**
   * What a stream that closed by itself (not aborted by the page) means: one that ended at once
   * while its replica runs says this server cannot follow, so its lines are a snapshot and the
   * card says so; any other ended (the replica stopped, the connection dropped) and may be
   * followed again.
   */
  function ended(since: number, at: number, running: boolean): LogFollow {
    if (running && at - since < QUICK_END_MS)
      return {
        state: 'unavailable',
        reason:
          'This server closed the stream at once although the replica is running, so it cannot follow logs here (a control plane on Cloudflare Workers, or an agent older than the control plane). These are the lines as of then; Refresh reads them again.',
      };
    return { state: 'ended', since, at };
  }

  return { MAX_LINES, TAIL, followPath, lineSplitter, keepLast, atBottom, ended };
}

export type LogFollowRules = ReturnType<typeof createLogFollow>;
