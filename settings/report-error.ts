/** The one error reporter of every entry point (the `daneel` binary and the device bundle): one clear line, an exit status. */
import { DaneelError, INPUT_ERROR_CODES } from '../src/errors.js'

/**
 * Prints `daneel: MESSAGE [CODE]` (with the cause under DANEEL_DEBUG=1) and returns the exit status: 2 for usage
 * and input errors, 1 otherwise. Anything that is not a DaneelError is an internal error, printed with its stack.
 */
export function reportError(err: unknown, env: NodeJS.ProcessEnv = process.env, out: NodeJS.WritableStream = process.stderr): number {
  if (err instanceof DaneelError) {
    out.write(`daneel: ${err.message} [${err.code}]\n`)
    if (env.DANEEL_DEBUG === '1' && err.cause !== undefined) out.write(`  cause: ${String(err.cause)}\n`)
    return INPUT_ERROR_CODES.has(err.code) ? 2 : 1
  }
  out.write(`daneel: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  return 1
}
