/** Every error code daneel raises, in one place (ERROR_CODES); docs/errors.md documents each (a test checks). */

/**
 * Every error code, as data: the type derives from this list, and test/src/errors.test.ts checks each against
 * docs/errors.md and against the code that raises it. Grouped as the docs are.
 */
export const ERROR_CODES = [
  // usage and input (CLI exit 2)
  'ERR_USAGE',
  'ERR_CONFIG_INVALID',
  'ERR_IO',
  // encodings
  'ERR_PEM_INVALID',
  'ERR_HEX_INVALID',
  'ERR_B64URL_INVALID',
  // keys and certificates
  'ERR_KEY_INVALID',
  'ERR_KEY_UNSUPPORTED',
  'ERR_KEY_MISMATCH',
  'ERR_KEY_PERMISSIONS',
  'ERR_CERT_INVALID',
  'ERR_CERT_EXPIRED',
  'ERR_CERT_NOT_YET_VALID',
  'ERR_CERT_NAME_MISMATCH',
  'ERR_CERT_NOT_CA',
  'ERR_CERT_PATHLEN',
  'ERR_CERT_KEY_USAGE',
  'ERR_CSR_INVALID',
  'ERR_IDENTITY_MISSING',
  // names and DANE
  'ERR_NAME_INVALID',
  'ERR_X5U_INVALID',
  'ERR_TLSA_INVALID',
  'ERR_TLSA_UNSUPPORTED',
  'ERR_TLSA_NO_MATCH',
  'ERR_TLSA_NONE',
  'ERR_PKIXCD_FETCH',
  'ERR_PKIXCD_CHAIN',
  // DNS
  'ERR_DNS_TIMEOUT',
  'ERR_DNS_SERVFAIL',
  'ERR_DNS_FORMAT',
  'ERR_DNSSEC_BOGUS',
  'ERR_DNSSEC_INDETERMINATE',
  'ERR_DNSSEC_INSECURE',
  'ERR_CLOCK_UNSYNCED',
  // JOSE and sealed messages
  'ERR_JOSE_ALG',
  'ERR_JOSE_HEADER',
  'ERR_JOSE_ZIP',
  'ERR_JOSE_CRIT',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE',
  'ERR_JWE_INVALID',
  'ERR_JWE_DECRYPT',
  'ERR_JWE_EPK',
  'ERR_JWE_RECIPIENT',
  'ERR_JWT_CLAIMS',
  'ERR_JWT_ISSUER',
  'ERR_JWS_SENDER',
  'ERR_JWT_AUDIENCE',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_FUTURE',
  'ERR_REPLAY',
  'ERR_UNBOUND_REFUSED',
  'ERR_SENDER_UNTRUSTED',
  'ERR_MESSAGE_TOO_LARGE',
  // messaging
  'ERR_MQTT',
  'ERR_AMQP',
  'ERR_OUTBOX_FULL',
  // sensors and hardware
  'ERR_GPIO',
  'ERR_UART',
  'ERR_SENSOR',
  // provisioning and monitor
  'ERR_PROVISION',
  'ERR_MONITOR',
  // a bug, not an input: a receiver counts an unexpected failure under this code (and logs it)
  'ERR_INTERNAL',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** The one error class: callers `switch (err.code)`. Outward messages stay terse; detail goes in `cause`. */
export class DaneelError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = 'DaneelError'
  }
}

export function isDaneelError(err: unknown, code?: ErrorCode): err is DaneelError {
  return err instanceof DaneelError && (code === undefined || err.code === code)
}

/** Codes that mean "the caller gave bad input" (CLI exit status 2) rather than "a check failed" (1). */
export const INPUT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_USAGE',
  'ERR_CONFIG_INVALID',
  'ERR_IO',
  'ERR_PEM_INVALID',
  'ERR_HEX_INVALID',
  'ERR_KEY_INVALID',
  'ERR_KEY_UNSUPPORTED',
  'ERR_CERT_INVALID',
  'ERR_CSR_INVALID',
  'ERR_NAME_INVALID',
  'ERR_X5U_INVALID',
  'ERR_TLSA_INVALID',
  'ERR_TLSA_UNSUPPORTED',
  'ERR_IDENTITY_MISSING',
  'ERR_KEY_MISMATCH',
  'ERR_KEY_PERMISSIONS',
  'ERR_CERT_NAME_MISMATCH',
  'ERR_MESSAGE_TOO_LARGE',
])

/**
 * Codes of faults that may clear by themselves (docs/errors.md "Temporary or permanent"): a receiver retries a
 * message failing with one of these, with backoff, and never acknowledges it meanwhile. Every other code is a
 * permanent verdict on the message (bad crypto, untrusted sender, replay, malformed, too large): it is counted
 * and acknowledged. An error that is not a DaneelError is an internal fault: temporary too.
 */
export const TEMPORARY_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_IO',
  'ERR_DNS_TIMEOUT',
  'ERR_DNS_SERVFAIL',
  'ERR_DNS_FORMAT',
  'ERR_DNSSEC_INDETERMINATE',
  'ERR_CLOCK_UNSYNCED',
  'ERR_PKIXCD_FETCH',
  'ERR_MQTT',
  'ERR_AMQP',
  'ERR_OUTBOX_FULL',
  'ERR_INTERNAL',
])

/** True when `err` is a fault worth retrying (see TEMPORARY_ERROR_CODES), false for a permanent verdict. */
export function isTemporary(err: unknown): boolean {
  return !isDaneelError(err) || TEMPORARY_ERROR_CODES.has(err.code)
}
