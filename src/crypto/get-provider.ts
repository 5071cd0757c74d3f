/** Picks a crypto provider by name (DANEEL_CRYPTO / --crypto): node (default, OpenSSL) or noble (pure JS). */
import { DaneelError } from '../errors.js'
import { nobleProvider } from './noble.js'
import { nodeProvider } from './node.js'
import type { CryptoProvider } from './provider.js'

export function getProvider(name: 'node' | 'noble' | string = 'node'): CryptoProvider {
  if (name === 'node') return nodeProvider
  if (name === 'noble') return nobleProvider
  throw new DaneelError('ERR_CONFIG_INVALID', `DANEEL_CRYPTO must be 'node' or 'noble', not '${name}'`)
}
