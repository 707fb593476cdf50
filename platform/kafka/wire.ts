/**
 * Confluent wire format, the framing every standard Kafka tool expects:
 *
 *   byte 0      magic byte, always 0
 *   bytes 1-4   schema id, big-endian int32, as assigned by the schema registry
 *   bytes 5..   the Avro binary encoding of the value with that (writer) schema
 */
import { PoisonRecordError } from '../errors.ts';

export const MAGIC_BYTE = 0;
const HEADER = 5;

export function frame(schemaId: number, avroBody: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + avroBody.length);
  out[0] = MAGIC_BYTE;
  out.writeInt32BE(schemaId, 1);
  avroBody.copy(out, HEADER);
  return out;
}

export function unframe(buf: Buffer | null): { schemaId: number; body: Buffer } {
  if (!buf || buf.length < HEADER) {
    throw new PoisonRecordError(
      `value is ${buf ? `${buf.length} bytes` : 'null'}; the wire format needs at least 5`,
      'not-wire-format',
    );
  }
  if (buf[0] !== MAGIC_BYTE) {
    throw new PoisonRecordError(`magic byte is ${buf[0]}, expected 0`, 'not-wire-format');
  }
  return { schemaId: buf.readInt32BE(1), body: buf.subarray(HEADER) };
}
