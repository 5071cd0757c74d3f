/** daneel gateway dashboard: per node, charts of its readings (uPlot), trust, health and air-quality index; live over SSE. */
;(() => {
  const CHARTS = [
    { id: 'pm', title: 'Particulate matter (µg/m³)', keys: ['pm1', 'pm25', 'pm10'], labels: ['PM1', 'PM2.5', 'PM10'] },
    { id: 'co2', title: 'CO₂ (ppm)', keys: ['co2'], labels: ['CO₂'] },
    { id: 'temperature', title: 'Temperature (°C)', keys: ['temperature'], labels: ['°C'] },
    { id: 'humidity', title: 'Relative humidity (%)', keys: ['humidity'], labels: ['%RH'] },
  ]
  const COLORS = ['#7a5af8', '#f04438', '#1570ef']
  /** Average step per range: at most a few hundred points per series. */
  const STEP = { 3600: 30, 86400: 300, 604800: 1800 }
  const TRUST = { dnssec: 'DNSSEC', 'pkix-cd': 'PKIX-CD', legacy: 'legacy (unbound)', offline: 'offline (pinned)' }
  const INDEX_NAME = { 'us-epa': 'US AQI', caqi: 'CAQI', eaqi: 'EAQI band' }

  const state = { range: 86400, index: 'us-epa', correction: 'none' }
  /** node name -> { card, charts: { id -> { u, data } } } */
  const views = new Map()
  const main = document.getElementById('nodes')

  // Same-origin requests only. With a gateway token, the proxy in front of the gateway adds the bearer header.
  async function getJson(path) {
    const res = await fetch(path)
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`)
    return res.json()
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag)
    if (cls) e.className = cls
    if (text !== undefined) e.textContent = text
    return e
  }

  function nodesPath() {
    return `/api/nodes?index=${state.index}&correction=${state.correction}`
  }

  /** Worst sensor health in a status message (per-change `{health}` or summary `{sensors: [...]}`). */
  function health(status) {
    if (!status) return 'unknown'
    const list = Array.isArray(status.sensors) ? status.sensors.map((s) => s.health) : [status.health]
    if (list.includes('failed')) return 'failed'
    if (list.includes('degraded')) return 'degraded'
    return list.includes('ok') ? 'ok' : 'unknown'
  }

  function renderHead(card, n) {
    const head = card.querySelector('.node-head')
    head.replaceChildren()
    head.append(el('h2', '', n.node))
    const badge = el('span', `badge ${n.trust}`, TRUST[n.trust] || n.trust)
    badge.dataset.trust = n.trust
    head.append(badge)
    const h = health(n.status)
    const hs = el('span', `health ${h}`, `health: ${h}`)
    hs.dataset.health = h
    head.append(hs)
    const meta = [`last seen ${new Date(n.lastSeen).toLocaleString()}`, `${n.readings} readings`]
    if (n.status && typeof n.status.outboxDepth === 'number') meta.push(`outbox ${n.status.outboxDepth}`)
    if (n.status && typeof n.status.version === 'string') meta.push(`v${n.status.version}`)
    head.append(el('span', 'meta', meta.join(' · ')))
    const aqi = el('span', 'aqi')
    if (n.aqi) {
      aqi.append(el('span', 'meta', `${INDEX_NAME[n.aqi.scheme]} (${n.aqi.dominant === 'pm25' ? 'PM2.5' : 'PM10'})`))
      const v = el('span', `value cat-${n.aqi.category}`, String(n.aqi.value))
      v.dataset.aqi = String(n.aqi.value)
      v.title = n.aqi.category
      aqi.append(v)
      aqi.append(el('span', 'meta', n.aqi.category.replace(/-/g, ' ')))
      if (n.aqi.corrected) aqi.append(el('span', 'corrected', n.aqi.corrected))
    } else {
      aqi.append(el('span', 'meta', `${INDEX_NAME[state.index]}: not enough PM data`))
    }
    head.append(aqi)
  }

  /** Rows (averaged per sensor and step) -> per chart uPlot data [xs, ...series], null where a key is missing. */
  function chartData(rows, chart) {
    const byT = new Map()
    for (const r of rows) {
      const t = Date.parse(r.time) / 1000
      let slot = byT.get(t)
      if (!slot) {
        slot = {}
        byT.set(t, slot)
      }
      for (const k of chart.keys) if (typeof r.values[k] === 'number') slot[k] = r.values[k]
    }
    const xs = [...byT.keys()].filter((t) => chart.keys.some((k) => k in byT.get(t))).sort((a, b) => a - b)
    return [xs, ...chart.keys.map((k) => xs.map((t) => (k in byT.get(t) ? byT.get(t)[k] : null)))]
  }

  function countPoints(data) {
    let n = 0
    for (let i = 1; i < data.length; i++) for (const v of data[i]) if (v !== null && v !== undefined) n++
    return n
  }

  function drawChart(box, chart, data) {
    box.replaceChildren(el('h3', '', chart.title))
    box.dataset.points = String(countPoints(data))
    if (data[0].length === 0) {
      box.append(el('div', 'nodata', 'no data in this range'))
      return null
    }
    const series = [{}]
    chart.keys.forEach((_, i) => {
      series.push({ label: chart.labels[i], stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false })
    })
    const width = Math.max(320, box.clientWidth || 420)
    const u = new uPlot({ width, height: 200, series, scales: { x: { time: true } }, legend: { live: false } }, data, box)
    box.dataset.points = String(countPoints(u.data))
    return u
  }

  async function renderNode(n, from, to, step) {
    const card = el('section', 'node')
    card.dataset.node = n.node
    card.append(el('div', 'node-head'))
    renderHead(card, n)
    const charts = el('div', 'charts')
    card.append(charts)
    const q = new URLSearchParams({ node: n.node, from, to, step: String(step), limit: '10000' })
    card.dataset.query = q.toString()
    const rows = await getJson(`/api/readings?${q}`)
    const view = { card, charts: {} }
    for (const c of CHARTS) {
      const box = el('div', 'chart')
      box.dataset.chart = c.id
      charts.append(box)
      const data = chartData(rows, c)
      view.charts[c.id] = { box, data, u: null, chart: c }
    }
    views.set(n.node, view)
    return card
  }

  async function load() {
    const to = new Date()
    const from = new Date(to.getTime() - state.range * 1000)
    const nodes = await getJson(nodesPath())
    views.clear()
    const cards = await Promise.all(nodes.map((n) => renderNode(n, from.toISOString(), to.toISOString(), STEP[state.range])))
    main.replaceChildren(...cards)
    if (cards.length === 0) main.append(el('p', 'empty', 'no nodes have reported yet'))
    // Draw after the cards are in the document, so the charts know their width.
    for (const v of views.values()) for (const c of Object.values(v.charts)) c.u = drawChart(c.box, c.chart, c.data)
    document.body.dataset.loaded = String(Date.now())
  }

  async function refreshHeads() {
    const nodes = await getJson(nodesPath())
    let unknown = false
    for (const n of nodes) {
      const v = views.get(n.node)
      if (v) renderHead(v.card, n)
      else unknown = true
    }
    if (unknown) await load()
  }

  let headTimer = null
  function scheduleHeads() {
    if (headTimer !== null) return
    headTimer = setTimeout(() => {
      headTimer = null
      refreshHeads().catch(showError)
    }, 5000)
  }

  /** A live reading: appended to the node's charts as one more point (not averaged into the step). */
  function onReading(r) {
    const v = views.get(r.node)
    if (!v) return scheduleHeads()
    const t = Date.parse(r.time) / 1000
    for (const c of Object.values(v.charts)) {
      if (!c.chart.keys.some((k) => typeof r.values[k] === 'number')) continue
      const xs = c.data[0]
      if (xs.length > 0 && t <= xs[xs.length - 1]) continue
      xs.push(t)
      c.chart.keys.forEach((k, i) => {
        c.data[i + 1].push(typeof r.values[k] === 'number' ? r.values[k] : null)
      })
      if (c.u) {
        c.u.setData(c.data)
        c.box.dataset.points = String(countPoints(c.u.data))
      } else {
        c.u = drawChart(c.box, c.chart, c.data)
      }
    }
    scheduleHeads()
  }

  function connectEvents() {
    const live = document.getElementById('live')
    const es = new EventSource('/events')
    es.addEventListener('open', () => live.classList.remove('off'))
    es.addEventListener('error', () => live.classList.add('off'))
    es.addEventListener('reading', (e) => onReading(JSON.parse(e.data)))
  }

  function showError(err) {
    main.replaceChildren(el('p', 'empty', `error: ${err.message}`))
  }

  document.getElementById('range').addEventListener('click', (e) => {
    const r = Number(e.target.dataset?.range)
    if (!r) return
    state.range = r
    for (const b of document.querySelectorAll('#range button')) b.classList.toggle('on', Number(b.dataset.range) === r)
    load().catch(showError)
  })
  document.getElementById('index').addEventListener('change', (e) => {
    state.index = e.target.value
    refreshHeads().catch(showError)
  })
  document.getElementById('correction').addEventListener('change', (e) => {
    state.correction = e.target.checked ? 'epa-2021' : 'none'
    refreshHeads().catch(showError)
  })

  load().then(connectEvents, showError)
})()
