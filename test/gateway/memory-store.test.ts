/** The HTTP tests' in-memory store double passes the same contract as the SQLite store (store-suite.ts). */
import { MemoryStore } from './memory-store.js'
import { storeSuite } from './store-suite.js'

storeSuite({ name: 'MemoryStore (test double)', create: async () => new MemoryStore() })
