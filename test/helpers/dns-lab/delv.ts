/** Runs BIND's delv against a lab (the independent validator our verdicts must agree with) and maps its output to a status. */
import { execFile } from 'node:child_process'

export type DelvVerdict = 'secure' | 'insecure' | 'bogus'

/** delv @127.0.0.1 -p PORT -a ANCHORS +root=. TYPE NAME → secure / insecure / bogus, plus its raw comment lines. */
export function delv(
  port: number,
  anchorsFile: string,
  name: string,
  type: string,
): Promise<{ verdict: DelvVerdict; lines: string[]; ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    execFile(
      'delv',
      ['@127.0.0.1', '-p', String(port), '-a', anchorsFile, '+root=.', type, name],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        const ms = performance.now() - t0
        const lines = `${stdout}\n${stderr}`.split('\n').filter((l) => l.startsWith(';'))
        const text = lines.join('\n')
        // delv prints "; fully validated", "; negative response, fully validated", "; unsigned answer" on success,
        // and ";; resolution failed: ..." / ";; validating ...: no valid signature found" when validation fails.
        if (/; (negative response, )?fully validated/.test(text)) resolve({ verdict: 'secure', lines, ms })
        else if (/; (negative response, )?unsigned answer/.test(text)) resolve({ verdict: 'insecure', lines, ms })
        else if (/resolution failed|no valid signature|failed to verify|RRSIG/.test(text)) resolve({ verdict: 'bogus', lines, ms })
        else reject(new Error(`delv gave no verdict (${err?.message ?? 'exit 0'}): ${text}`))
      },
    )
  })
}
