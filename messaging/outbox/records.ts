/** Bodies of the outbox's two logs: data records (id, topic, payload) in segments, ack/floor records in acks.log. */
import { DaneelError } from '../../src/errors.js'
import { frameInPlace, HEADER_BYTES } from './frame.js'

/*
 * Data body:  u8 type=1, u32 id-high, u32 id-low, u16 topic length, topic (UTF-8), payload
 * Ack body:   u8 type=2, u32 id-high, u32 id-low          -- this id was acknowledged (PUBACK)
 * Floor body: u8 type=3, u32 id-high, u32 id-low          -- every id below this one is done (acked or dropped)
 * Ids are whole numbers below 2^53 (a reading every 10 ms for 2.8 million years).
 */
export const TYPE_DATA = 1
export const TYPE_ACK = 2
export const TYPE_FLOOR = 3
const ID_BYTES = 9

export interface DataRecord {
  id: number
  topic: string
  payload: Buffer
}

function writeId(buf: Buffer, type: number, id: number, at = 0): void {
  buf[at] = type
  buf.writeUInt32BE(Math.floor(id / 2 ** 32), at + 1)
  buf.writeUInt32BE(id >>> 0, at + 5)
}

function readId(buf: Buffer): number {
  return buf.readUInt32BE(1) * 2 ** 32 + buf.readUInt32BE(5)
}

export function encodeData(id: number, topic: string, payload: Uint8Array | string): Buffer {
  return encodeDataAt(0, id, topic, payload)
}

/** A framed data record (frame.ts header + data body) in one buffer: what the outbox appends. */
export function frameData(id: number, topic: string, payload: Uint8Array | string): Buffer {
  return frameInPlace(encodeDataAt(HEADER_BYTES, id, topic, payload))
}

function encodeDataAt(at: number, id: number, topic: string, payload: Uint8Array | string): Buffer {
  const topicLen = Buffer.byteLength(topic, 'utf8')
  if (topicLen > 0xffff) throw new DaneelError('ERR_MQTT', 'topic longer than 65535 bytes')
  const payloadLen = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length
  const out = Buffer.allocUnsafe(at + ID_BYTES + 2 + topicLen + payloadLen)
  writeId(out, TYPE_DATA, id, at)
  out.writeUInt16BE(topicLen, at + ID_BYTES)
  out.write(topic, at + ID_BYTES + 2, 'utf8')
  if (typeof payload === 'string') out.write(payload, at + ID_BYTES + 2 + topicLen, 'utf8')
  else out.set(payload, at + ID_BYTES + 2 + topicLen)
  return out
}

/** Decodes a data body; undefined when it is not one (a CRC-valid body of the wrong shape is corruption too). */
export function decodeData(body: Buffer): DataRecord | undefined {
  if (body.length < ID_BYTES + 2 || body[0] !== TYPE_DATA) return undefined
  const topicLen = body.readUInt16BE(ID_BYTES)
  if (ID_BYTES + 2 + topicLen > body.length) return undefined
  return {
    id: readId(body),
    topic: body.toString('utf8', ID_BYTES + 2, ID_BYTES + 2 + topicLen),
    payload: body.subarray(ID_BYTES + 2 + topicLen),
  }
}

export function encodeMark(type: typeof TYPE_ACK | typeof TYPE_FLOOR, id: number): Buffer {
  const out = Buffer.allocUnsafe(ID_BYTES)
  writeId(out, type, id)
  return out
}

/** A framed ack or floor record in one buffer (one per PUBACK: kept to a single allocation). */
export function frameMark(type: typeof TYPE_ACK | typeof TYPE_FLOOR, id: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + ID_BYTES)
  writeId(out, type, id, HEADER_BYTES)
  return frameInPlace(out)
}

export function decodeMark(body: Buffer): { type: number; id: number } | undefined {
  if (body.length !== ID_BYTES || (body[0] !== TYPE_ACK && body[0] !== TYPE_FLOOR)) return undefined
  return { type: body[0], id: readId(body) }
}
