import type { Context } from 'hono';

/**
 * Warnings of a write that succeeded, as Kubernetes sends them (and kubectl prints them): one
 * `Warning: 299 - "<text>"` header each, the text a quoted-string (RFC 9110 §5.6.4). A header
 * holds printable ASCII only: anything else in a name the text quotes becomes "?".
 */
export function addWarningHeaders(c: Context, messages: readonly string[]): void {
  for (const m of messages) {
    const text = m.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&');
    c.header('Warning', `299 - "${text}"`, { append: true });
  }
}
