import {
  type FieldSchema,
  KINDS,
  MESSAGES,
  SPECIAL_MESSAGES,
  type SpecialMessage,
} from './protobuf-schemas.ts';
import { packedVarints, WireError, type WireField, wireFields } from './protobuf-wire.ts';

/**
 * Kubernetes' protobuf bodies (`application/vnd.kubernetes.protobuf`), which kubectl's typed
 * clients send for `kubectl create configmap|deployment|...`, read into the JSON object the same
 * command would have sent as JSON: every write then takes the one JSON path (validation, 422s with
 * field paths, roles). Pure, and free of `node:` imports: it runs on Workers and Deno too.
 *
 * A body is the 4 bytes `k8s\0`, then a `runtime.Unknown`: the object's apiVersion and kind, and
 * its message (`raw`). A field this reader does not know is refused by number and path, never
 * dropped: Berth honours every field it accepts.
 */

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** A body that is not a well-formed protobuf object of a kind Berth reads (400). */
export class ProtobufError extends Error {}

/** A well-formed body of a kind with no schema here (415: send it as JSON). */
export class ProtobufKindError extends Error {}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export function decodeKubeProtobuf(body: Uint8Array): JsonObject {
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b))
    throw new ProtobufError('the body does not start with the Kubernetes protobuf prefix "k8s\\0"');
  try {
    const envelope = readUnknown(body.subarray(MAGIC.length));
    const message = KINDS[`${envelope.apiVersion}/${envelope.kind}`];
    if (!message)
      throw new ProtobufKindError(
        `Berth reads protobuf bodies of ${Object.keys(KINDS).join(', ')} only, not ${envelope.apiVersion}/${envelope.kind}: send it as JSON`,
      );
    return {
      apiVersion: envelope.apiVersion,
      kind: envelope.kind,
      ...decodeMessage(envelope.raw, message, ''),
    };
  } catch (e) {
    if (e instanceof WireError) throw new ProtobufError(e.message);
    throw e;
  }
}

/**
 * `runtime.Unknown` (k8s.io/apimachinery pkg/runtime generated.proto): typeMeta = 1 (a
 * `runtime.TypeMeta`: apiVersion = 1, kind = 2), raw = 2, contentEncoding = 3, contentType = 4.
 */
function readUnknown(bytes: Uint8Array) {
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array();
  let contentEncoding = '';
  for (const field of wireFields(bytes)) {
    if (field.number === 1) {
      for (const meta of wireFields(bytesOf(field, 'typeMeta'))) {
        if (meta.number === 1) apiVersion = text(bytesOf(meta, 'typeMeta.apiVersion'), 'apiVersion');
        else if (meta.number === 2) kind = text(bytesOf(meta, 'typeMeta.kind'), 'kind');
        else throw unknownField(meta.number, 'TypeMeta', 'typeMeta');
      }
    } else if (field.number === 2) raw = bytesOf(field, 'raw');
    else if (field.number === 3) contentEncoding = text(bytesOf(field, 'contentEncoding'), 'contentEncoding');
    else if (field.number === 4) text(bytesOf(field, 'contentType'), 'contentType');
    else throw unknownField(field.number, 'Unknown', '');
  }
  if (contentEncoding)
    throw new ProtobufError(`the object is encoded as "${contentEncoding}", which Berth does not read`);
  if (!apiVersion || !kind) throw new ProtobufError('the body names no apiVersion and kind');
  return { apiVersion, kind, raw };
}

function decodeMessage(bytes: Uint8Array, message: string, path: string): JsonObject {
  const schema = MESSAGES.get(message);
  if (!schema) throw new Error(`no protobuf schema for ${message}`);
  const out: JsonObject = {};
  for (const field of wireFields(bytes)) {
    const f = schema.get(field.number);
    if (!f) throw unknownField(field.number, message, path);
    const at = join(path, f.name);
    if (f.map) {
      const [key, value] = mapEntry(bytesOf(field, at), f, at);
      const map = (out[f.name] ?? {}) as JsonObject;
      // Defined, not assigned: a key "__proto__" is a key, as JSON.parse makes it.
      Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
      out[f.name] = map;
    } else if (f.repeated) {
      const list = (out[f.name] ?? []) as Json[];
      out[f.name] = list;
      // A repeated number may come packed (several in one length-delimited field).
      if (f.scalar && f.type !== 'string' && f.type !== 'bytes' && field.wire === 'bytes')
        for (const v of packedVarints(field.value))
          list.push(scalar({ number: f.number, wire: 'varint', value: v }, f, at));
      else list.push(value(field, f, `${at}[${list.length}]`));
    } else if (f.inline) Object.assign(out, decodeMessage(bytesOf(field, at), f.type, path));
    else {
      const v = value(field, f, at);
      // Go leaves a non-pointer scalar at its zero value out of JSON (omitempty): so does Berth.
      if (f.scalar && !f.keepZero && isZero(v)) delete out[f.name];
      else out[f.name] = v;
    }
  }
  return out;
}

function value(field: WireField, f: FieldSchema, path: string): Json {
  if (f.scalar) return scalar(field, f, path);
  const bytes = bytesOf(field, path);
  if ((SPECIAL_MESSAGES as readonly string[]).includes(f.type))
    return special(bytes, f.type as SpecialMessage, path);
  return decodeMessage(bytes, f.type, path);
}

function scalar(field: WireField, f: FieldSchema, path: string): Json {
  switch (f.type) {
    case 'string':
      return text(bytesOf(field, path), path);
    case 'bytes':
      return base64(bytesOf(field, path));
    case 'bool':
      return varintOf(field, path) !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, varintOf(field, path)));
    default:
      return Number(BigInt.asIntN(64, varintOf(field, path)));
  }
}

/** A map entry: a message with the key as field 1 and the value as field 2, either may be absent. */
function mapEntry(bytes: Uint8Array, f: FieldSchema, path: string): [string, Json] {
  let key = '';
  let entry: WireField | undefined;
  for (const field of wireFields(bytes)) {
    if (field.number === 1) key = text(bytesOf(field, path), path);
    else if (field.number === 2) entry = field;
    else throw unknownField(field.number, `${f.name} entry`, path);
  }
  const at = join(path, key);
  if (entry) return [key, value(entry, { ...f, repeated: false, map: false }, at)];
  // An absent value is its type's zero value.
  if (f.type === 'string' || f.type === 'bytes') return [key, ''];
  return [key, value({ number: 2, wire: 'bytes', value: new Uint8Array() }, f, at)];
}

/**
 * The types whose JSON is not an object of their fields, as Go's JSON marshalling writes them:
 * - Time (meta/v1: seconds = 1, nanos = 2): RFC 3339 to the second, UTC; an empty message is
 *   Go's zero time, which is `null`.
 * - Quantity (api/resource: string = 1): its string, already canonical; empty is "0".
 * - IntOrString (util/intstr: type = 1, intVal = 2, strVal = 3): the number or the string.
 * - FieldsV1 (meta/v1: Raw = 1) and RawExtension (runtime: raw = 1): the JSON they hold.
 */
function special(bytes: Uint8Array, type: SpecialMessage, path: string): Json {
  const fields = new Map<number, WireField>();
  for (const field of wireFields(bytes)) {
    const known = type === 'IntOrString' ? 3 : type === 'Time' ? 2 : 1;
    if (field.number > known) throw unknownField(field.number, type, path);
    fields.set(field.number, field);
  }
  const get = (n: number) => fields.get(n);
  switch (type) {
    case 'Time': {
      if (bytes.length === 0) return null;
      const seconds = get(1) ? BigInt.asIntN(64, varintOf(get(1)!, path)) : 0n;
      const date = new Date(Number(seconds) * 1000);
      if (Number.isNaN(date.getTime())) throw new ProtobufError(`${path}: a time out of range`);
      return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'Quantity':
      return get(1) ? text(bytesOf(get(1)!, path), path) : '0';
    case 'IntOrString': {
      const kind = get(1) ? Number(BigInt.asIntN(64, varintOf(get(1)!, path))) : 0;
      if (kind === 1) return get(3) ? text(bytesOf(get(3)!, path), path) : '';
      if (kind !== 0) throw new ProtobufError(`${path}: an int-or-string of type ${kind}`);
      return get(2) ? Number(BigInt.asIntN(32, varintOf(get(2)!, path))) : 0;
    }
    default: {
      const raw = get(1) ? bytesOf(get(1)!, path) : new Uint8Array();
      if (raw.length === 0) return null;
      try {
        return JSON.parse(text(raw, path)) as Json;
      } catch (e) {
        if (e instanceof ProtobufError) throw e;
        throw new ProtobufError(`${path}: holds no JSON (${(e as Error).message})`);
      }
    }
  }
}

function bytesOf(field: WireField, path: string): Uint8Array {
  if (field.wire !== 'bytes') throw wrongWire(field, path);
  return field.value;
}

function varintOf(field: WireField, path: string): bigint {
  if (field.wire !== 'varint') throw wrongWire(field, path);
  return field.value;
}

const wrongWire = (field: WireField, path: string) =>
  new ProtobufError(
    `${path || '<root>'}: field ${field.number} is written as ${field.wire}, not as its type is`,
  );

const decoder = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array, path: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ProtobufError(`${path || '<root>'}: a string that is not valid UTF-8`);
  }
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  // In slices: spreading a whole large value into one call would overflow the stack.
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const isZero = (v: Json) => v === '' || v === 0 || v === false;

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);

function unknownField(number: number, message: string, path: string): ProtobufError {
  return new ProtobufError(
    `field ${number} of ${message}${path ? ` at ${path}` : ''} is not one Berth knows (Kubernetes v1.32's fields are): send the object as JSON`,
  );
}
