/** Names used by sealing and opening: the x5u form and trusted-domain rule live in src/dane/names.ts (docs/contract.md "Names"). */
import { normalizeDnsName } from '../dane/names.js'

export { formatX5u, isTrustedSender, parseX5u } from '../dane/names.js'

/** Lower-cases a DNS name, drops a final dot, checks its syntax (ERR_NAME_INVALID). */
export const normalizeName: (name: string) => string = normalizeDnsName
