import type { Context } from 'hono';
import type { z } from 'zod';
import { jsonPath } from '../../common/issue-path.ts';
import { zodFieldErrors } from '../../common/manifest.ts';
import { ApiError, type FieldError, invalid } from './errors.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Read the raw body as text, refusing more than 1 MiB without buffering it all. */
export async function readBodyText(c: Context, limit = MAX_BODY_BYTES): Promise<string> {
  const all = await readBodyBytes(c, limit);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch {
    throw new ApiError('BAD_REQUEST', 'the request body is not valid UTF-8');
  }
}

/** Read the raw body as bytes (a binary format, such as Kubernetes' protobuf), with the same limit. */
export async function readBodyBytes(c: Context, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > limit) throw tooLarge(limit);
  const body = c.req.raw.body;
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

const tooLarge = (limit: number) =>
  new ApiError('PAYLOAD_TOO_LARGE', `the request body is larger than ${Math.round(limit / 1024)} KiB`);

export function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The JSON body of a write: 415 unless JSON, 400 unless well-formed, 413 when too large. */
export async function readJson(c: Context, accept: string[] = ['application/json']): Promise<unknown> {
  const type = mediaType(c);
  if (!accept.includes(type)) {
    throw new ApiError(
      'UNSUPPORTED_MEDIA_TYPE',
      `expected Content-Type ${accept.join(' or ')}${type ? `, got ${type}` : ''}`,
    );
  }
  const text = await readBodyText(c);
  if (text.trim() === '') throw new ApiError('BAD_REQUEST', 'the request body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ApiError('BAD_REQUEST', `malformed JSON: ${(e as Error).message}`);
  }
  const refused = unstorableStrings(value);
  if (refused.length) throw invalid(refused);
  return value;
}

// A lone half of a surrogate pair (the JSON escape \ud800 makes one); NUL is checked apart.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (s: string) => s.includes('\0') || LONE_SURROGATE.test(s);

/**
 * Strings, keys or values, that Postgres cannot store: it refuses NUL characters in text and
 * json, and unpaired surrogates in json. Found here they are a 422 naming the field, not a
 * failed query (500) deep inside a verb. Walks without recursion: bodies may nest 10k deep.
 */
export function unstorableStrings(value: unknown, limit = 20): FieldError[] {
  // Paths are linked lists, built into strings only when something is found: copying the path
  // at every level would cost depth² on deep bodies.
  interface At {
    parent: At | undefined;
    key: PropertyKey;
  }
  const pathOf = (at: At | undefined): string => {
    const keys: PropertyKey[] = [];
    for (let a = at; a; a = a.parent) keys.push(a.key);
    return jsonPath(keys.reverse());
  };
  const found: FieldError[] = [];
  const message = 'must not contain NUL characters or unpaired UTF-16 surrogates';
  const stack: [unknown, At | undefined][] = [[value, undefined]];
  while (stack.length && found.length < limit) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'string') {
      if (unstorable(v)) found.push({ path: pathOf(at), message });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], { parent: at, key: i }]);
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const here = { parent: at, key: k };
        if (unstorable(k)) found.push({ path: pathOf(here), message: `key ${message}` });
        stack.push([child, here]);
      }
    }
  }
  return found;
}

/** Validate with the route's own schema (the one the OpenAPI document shows). */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: PropertyKey[] = [],
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(zodFieldErrors(result.error, prefix, value));
  return result.data;
}

export async function readValid<S extends z.ZodType>(
  c: Context,
  schema: S,
  accept?: string[],
): Promise<z.output<S>> {
  return validate(schema, await readJson(c, accept));
}

/** A body that may be absent (POST .../rollback with no body means "the previous revision"). */
export async function readOptionalJson(c: Context): Promise<unknown> {
  const length = c.req.header('content-length');
  if (length === '0' || (!c.req.raw.body && !c.req.header('content-type'))) return undefined;
  if (!c.req.header('content-type')) {
    const text = await readBodyText(c);
    if (text.trim() === '') return undefined;
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'expected Content-Type application/json');
  }
  return readJson(c);
}
