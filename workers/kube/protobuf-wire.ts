/**
 * The protobuf wire format, read without a schema: each field of a message as its number, its wire
 * type and its raw value. Pure and free of `node:` imports, so it runs on Workers and Deno as on
 * Node. What the numbers mean is protobuf-schemas.ts's; turning them into JSON is protobuf.ts's.
 */

export class WireError extends Error {}

export type WireField =
  | { number: number; wire: 'varint'; value: bigint }
  | { number: number; wire: 'fixed64'; value: Uint8Array }
  | { number: number; wire: 'bytes'; value: Uint8Array }
  | { number: number; wire: 'fixed32'; value: Uint8Array };

/** The fields of one message, in the order they were written. */
export function* wireFields(bytes: Uint8Array): Generator<WireField> {
  let at = 0;
  while (at < bytes.length) {
    const [key, afterKey] = readVarint(bytes, at);
    at = afterKey;
    const number = Number(key >> 3n);
    if (number < 1) throw new WireError(`a field numbered ${number} at byte ${at}`);
    switch (Number(key & 7n)) {
      case 0: {
        const [value, next] = readVarint(bytes, at);
        at = next;
        yield { number, wire: 'varint', value };
        break;
      }
      case 1:
        yield { number, wire: 'fixed64', value: take(bytes, at, 8) };
        at += 8;
        break;
      case 2: {
        const [length, next] = readVarint(bytes, at);
        if (length > BigInt(bytes.length - next))
          throw new WireError(`field ${number} is longer than the message holding it`);
        yield { number, wire: 'bytes', value: take(bytes, next, Number(length)) };
        at = next + Number(length);
        break;
      }
      case 5:
        yield { number, wire: 'fixed32', value: take(bytes, at, 4) };
        at += 4;
        break;
      default:
        // 3 and 4 are proto2 groups, which no Kubernetes message uses; 6 and 7 do not exist.
        throw new WireError(`field ${number} has wire type ${Number(key & 7n)}, which Berth does not read`);
    }
  }
}

/** A base-128 varint of at most 10 bytes (64 bits), as an unsigned bigint. */
export function readVarint(bytes: Uint8Array, start: number): [bigint, number] {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = bytes[start + i];
    if (byte === undefined) throw new WireError('the message ends inside a number');
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) return [BigInt.asUintN(64, value), start + i + 1];
  }
  throw new WireError('a number longer than 10 bytes');
}

/** The values of a packed repeated varint field (proto3's default; Kubernetes' proto2 writes them one by one). */
export function packedVarints(bytes: Uint8Array): bigint[] {
  const values: bigint[] = [];
  for (let at = 0; at < bytes.length; ) {
    const [value, next] = readVarint(bytes, at);
    values.push(value);
    at = next;
  }
  return values;
}

function take(bytes: Uint8Array, at: number, length: number): Uint8Array {
  if (at + length > bytes.length) throw new WireError('the message ends inside a field');
  return bytes.subarray(at, at + length);
}
