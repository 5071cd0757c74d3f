/** A reused byte buffer that JOSE serializations are written into: ASCII, UTF-8, decimal integers and base64url (RFC 4648 §5) in place. */

/*
 * Why: a sealed reading passes through base64url twice (the JWS payload, then the JWE ciphertext), and built with
 * strings every step is a fresh copy: claims text, its Buffer, the payload's base64url string, the signing input
 * as a concatenated string and again as a Buffer, the compact JWS as a string and again as the JWE plaintext.
 * Written into one reused buffer, a 240-byte reading allocates about 3 KB less per seal (bench:device).
 *
 * A writer's bytes are valid until its next reset(): callers hand views of it only to synchronous consumers
 * (crypto.sign, cipher.update) and copy out what they keep (latin1()).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0))

/** Largest buffer kept between uses: a bigger message grows the buffer for itself only (16 KiB, MAX_MESSAGE_SIZE's default). */
const KEEP_BYTES = 16 * 1024

export class ByteWriter {
  private buf: Buffer
  /** Bytes written since the last reset(). */
  length = 0

  constructor(initialBytes = 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  /** Starts over; a buffer grown past KEEP_BYTES by one large message is let go. */
  reset(): this {
    this.length = 0
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafe(KEEP_BYTES)
    return this
  }

  private ensure(more: number): void {
    const need = this.length + more
    if (need <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2))
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }

  /** Appends a string of ASCII (or Latin-1) characters, one byte each. */
  ascii(s: string): this {
    this.ensure(s.length)
    this.length += this.buf.write(s, this.length, 'latin1')
    return this
  }

  /** Appends a string as UTF-8. */
  utf8(s: string): this {
    this.ensure(s.length * 3)
    this.length += this.buf.write(s, this.length, 'utf8')
    return this
  }

  /** Appends a non-negative safe integer in decimal, with no string made for it. */
  uint(n: number): this {
    let digits = 1
    for (let p = 10; p <= n; p *= 10) digits++
    this.ensure(digits)
    let end = this.length + digits
    this.length = end
    do {
      this.buf[--end] = 0x30 + (n % 10)
      n = Math.floor(n / 10)
    } while (n > 0)
    return this
  }

  /** Appends `bytes[start, end)` as unpadded base64url. */
  b64url(bytes: Uint8Array, start = 0, end = bytes.length): this {
    this.ensure(Math.ceil(((end - start) * 4) / 3))
    const out = this.buf
    let o = this.length
    let i = start
    for (; i + 2 < end; i += 3) {
      const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
      out[o++] = CODES[v >>> 18] as number
      out[o++] = CODES[(v >>> 12) & 63] as number
      out[o++] = CODES[(v >>> 6) & 63] as number
      out[o++] = CODES[v & 63] as number
    }
    if (i < end) {
      const v = ((bytes[i] as number) << 16) | (i + 1 < end ? (bytes[i + 1] as number) << 8 : 0)
      out[o++] = CODES[v >>> 18] as number
      out[o++] = CODES[(v >>> 12) & 63] as number
      if (i + 1 < end) out[o++] = CODES[(v >>> 6) & 63] as number
    }
    this.length = o
    return this
  }

  /** Appends another writer's bytes as base64url. */
  b64urlOf(w: ByteWriter): this {
    return this.b64url(w.buf, 0, w.length)
  }

  /** A view of bytes [start, end) written so far: valid until the next reset() or write that grows the buffer. */
  view(start = 0, end = this.length): Buffer {
    return this.buf.subarray(start, end)
  }

  /** The bytes written so far as a string of one byte per character (they are ASCII here): one copy. */
  latin1(): string {
    return this.buf.toString('latin1', 0, this.length)
  }
}
