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
        // delv prints one verdict per RRset it shows ("; fully validated", "; negative response, fully validated",
        // "; unsigned answer"), e.g. a signed CNAME then an unsigned target; failures come as ";; resolution failed: ..."
        // (except "ncache nxdomain/nxrrset", printed before a validated negative answer) or ";; ... no valid signature".
        const bogus =
          /no valid (signature|RRSIG)|failed to verify|broken trust chain|insecurity proof failed|resolution failed: (?!ncache)/.test(text)
        const unsigned = /^; (negative response, )?unsigned answer/m.test(text)
        const validated = /^; (negative response, )?fully validated/m.test(text)
        if (bogus) resolve({ verdict: 'bogus', lines, ms })
        else if (unsigned) resolve({ verdict: 'insecure', lines, ms })
        else if (validated) resolve({ verdict: 'secure', lines, ms })
        else reject(new Error(`delv gave no verdict (${err?.message ?? 'exit 0'}): ${text}`))
      },
    )
  })
}
