/** /api/nodes: the store's node summaries, each with its trust badge and its air-quality index computed at read time. */
import { type AqiOptions, HOUR_MS, type NodeAqi, nodeAqi } from '../aqi/node-aqi.js'
import type { NodeSummary, ReadingStore } from '../store/types.js'

/** How the dashboard labels a node's trust: the key's authentication, or legacy for unbound (claims-less) messages. */
export type TrustBadge = 'dnssec' | 'pkix-cd' | 'offline' | 'legacy'

export interface NodeView extends NodeSummary {
  trust: TrustBadge
  aqi: NodeAqi | null
}

export function trustBadge(n: Pick<NodeSummary, 'auth' | 'bound'>): TrustBadge {
  return n.bound ? n.auth : 'legacy'
}

/**
 * Every node with its index over its last 12 complete hours (read as hourly averages from the store: 12 rows per
 * sensor, not the raw readings). Values are never written back: the index is recomputed on each request.
 */
export async function nodeViews(store: ReadingStore, nowMs: number, opts: AqiOptions): Promise<NodeView[]> {
  const nodes = await store.nodes()
  const end = Math.floor(nowMs / HOUR_MS) * HOUR_MS
  return Promise.all(
    nodes.map(async (n) => {
      const rows = await store.readings({ node: n.node, from: end - 12 * HOUR_MS, to: end, stepSeconds: 3600, limit: 12 * 64 })
      return { ...n, trust: trustBadge(n), aqi: nodeAqi(rows, nowMs, opts) }
    }),
  )
}
