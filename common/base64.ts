/**
 * Base64 as Kubernetes reads `data` and `binaryData` ([]byte in JSON: the standard alphabet with
 * padding; line breaks are skipped as Go's decoder skips them). Pure and runtime-neutral: no
 * Buffer, so the edge runtimes share it.
 */

const STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Whether Kubernetes would decode `text` (padding required, nothing outside the alphabet). */
export const isBase64 = (text: string) => STANDARD.test(text.replace(/[\r\n]/g, ''));

/** The bytes `text` encodes; undefined when it is not base64 as Kubernetes reads it. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\r\n]/g, '');
  if (!STANDARD.test(clean)) return undefined;
  const body = clean.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let at = 0;
  for (const ch of body) {
    buffer = (buffer << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * The UTF-8 text `text` encodes. `undefined` for text that is not base64; `null` for bytes that are
 * not UTF-8, which Berth cannot keep as a string value without changing them.
 */
export function decodeBase64Text(text: string): string | undefined | null {
  const bytes = decodeBase64(text);
  if (!bytes) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** UTF-8 text → base64 (the standard alphabet, padded). */
export function encodeBase64Text(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [18, 12, 6, 0].map((s) => ALPHABET[(n >> s) & 63]);
    const kept = i + 2 < bytes.length ? 4 : i + 1 < bytes.length ? 3 : 2;
    out += chars.slice(0, kept).join('') + '='.repeat(4 - kept);
  }
  return out;
}
