/** Static rules for a Balena block (balena-io/docs: deploy-with-balena-button, blocks, supervisor docker-compose reference). */
import { parse } from 'yaml'

/** Compose keys balenaOS's supervisor does not accept (file format 2.4 subset; v3-only keys). */
const UNSUPPORTED_SERVICE_KEYS = [
  'container_name',
  'env_file',
  'logging',
  'cpus',
  'links',
  'tty',
  'stdin_open',
  'deploy',
  'configs',
  'secrets',
  'extends',
  'external_links',
  'userns_mode',
  'credential_spec',
  'isolation',
  'profiles',
]
const DANGEROUS_LABELS = [
  'io.balena.features.dbus',
  'io.balena.features.sysfs',
  'io.balena.features.procfs',
  'io.balena.features.kernel-modules',
  'io.balena.features.firmware',
  'io.balena.features.supervisor-api',
  'io.balena.features.balena-socket',
  'io.balena.features.balena-api',
]
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)

/** Problems in a docker-compose.yml for balenaOS; `exists(path)` says whether a build context has a Dockerfile. */
export function lintCompose(text: string, hasDockerfile: (context: string) => boolean): string[] {
  const errs: string[] = []
  if (/\$\{?[A-Za-z_]/.test(text.replace(/^\s*#.*$/gm, ''))) errs.push('variable substitution is not supported')
  const doc: unknown = parse(text)
  if (!isObj(doc)) return ['not a YAML mapping']
  if (typeof doc.version !== 'string' || !/^2(\.\d)?$/.test(doc.version))
    errs.push(`version must be a 2.x string, not ${JSON.stringify(doc.version)}`)
  for (const k of ['configs', 'secrets']) if (k in doc) errs.push(`top-level ${k} is a v3 feature`)
  const declared = new Set(isObj(doc.volumes) ? Object.keys(doc.volumes) : [])
  if (!isObj(doc.services) || Object.keys(doc.services).length === 0) return [...errs, 'no services']
  for (const [name, svc] of Object.entries(doc.services)) {
    if (!isObj(svc)) {
      errs.push(`${name}: not a mapping`)
      continue
    }
    for (const k of UNSUPPORTED_SERVICE_KEYS) if (k in svc) errs.push(`${name}: ${k} is not supported`)
    if (svc.privileged === true) errs.push(`${name}: privileged is not needed; map devices instead`)
    if (svc.build === undefined && svc.image === undefined) errs.push(`${name}: needs build or image`)
    const ctx = typeof svc.build === 'string' ? svc.build : isObj(svc.build) ? String(svc.build.context ?? '.') : undefined
    if (ctx !== undefined && !hasDockerfile(ctx)) errs.push(`${name}: build context ${ctx} has no Dockerfile`)
    for (const v of Array.isArray(svc.volumes) ? svc.volumes : svc.volumes === undefined ? [] : [svc.volumes]) {
      if (typeof v !== 'string') {
        errs.push(`${name}: only the short volume syntax is supported`)
        continue
      }
      const source = v.split(':')[0] ?? ''
      if (source.startsWith('/') || source.startsWith('.') || source.startsWith('~'))
        errs.push(`${name}: bind mount ${source} is not supported`)
      else if (!declared.has(source)) errs.push(`${name}: volume ${source} is not declared under volumes`)
    }
    if (svc.network_mode !== undefined && !/^(bridge|host|service:.+)$/.test(String(svc.network_mode)))
      errs.push(`${name}: network_mode ${String(svc.network_mode)}`)
    if (svc.depends_on !== undefined && !Array.isArray(svc.depends_on)) errs.push(`${name}: depends_on must be the array form`)
    const labels = isObj(svc.labels) ? Object.keys(svc.labels) : []
    for (const l of labels) if (DANGEROUS_LABELS.includes(l)) errs.push(`${name}: label ${l} gives host access`)
  }
  return errs
}

/** Problems in balena.yml: required fields, semver, device types, HTTPS assets. */
export function lintBalenaYml(text: string): string[] {
  const errs: string[] = []
  const doc: unknown = parse(text)
  if (!isObj(doc)) return ['not a YAML mapping']
  if (typeof doc.name !== 'string' || doc.name === '') errs.push('name is required')
  if (doc.type !== 'sw.block' && doc.type !== 'sw.application') errs.push('type must be sw.block or sw.application')
  if (typeof doc.version !== 'string' || !SEMVER.test(doc.version)) errs.push('version must be semver')
  if (typeof doc.description !== 'string' || doc.description.trim() === '') errs.push('description is required')
  const data = isObj(doc.data) ? doc.data : {}
  const supported = Array.isArray(data.supportedDeviceTypes) ? data.supportedDeviceTypes : []
  if (supported.length === 0) errs.push('data.supportedDeviceTypes is required')
  if (typeof data.defaultDeviceType !== 'string' || !supported.includes(data.defaultDeviceType))
    errs.push('data.defaultDeviceType must be one of supportedDeviceTypes')
  for (const key of ['applicationEnvironmentVariables', 'applicationConfigVariables']) {
    const list = data[key]
    if (list === undefined) continue
    if (!Array.isArray(list) || !list.every((e) => isObj(e) && Object.keys(e).length === 1))
      errs.push(`data.${key} must be a list of single-key mappings`)
  }
  const assets = isObj(doc.assets) ? doc.assets : {}
  for (const [k, a] of Object.entries(assets)) {
    const url = isObj(a) && isObj(a.data) ? a.data.url : undefined
    if (!isObj(a) || a.type !== 'blob.asset' || typeof url !== 'string' || !url.startsWith('https://'))
      errs.push(`assets.${k} must be a blob.asset with an https URL`)
  }
  return errs
}

/** Problems in the Dockerfile: Node >= 20.19 base, a final non-root USER, a CMD or ENTRYPOINT, no ADD of URLs. */
export function lintDockerfile(text: string): string[] {
  const errs: string[] = []
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  const args = new Map<string, string>()
  for (const l of lines) {
    const m = /^ARG\s+(\w+)=(\S+)/i.exec(l)
    if (m !== null) args.set(m[1] as string, m[2] as string)
  }
  const froms = lines
    .filter((l) => /^FROM\s/i.test(l))
    .map((l) => l.split(/\s+/)[1] ?? '')
    .map((img) => img.replace(/\$\{(\w+)\}/g, (_, n: string) => args.get(n) ?? ''))
  if (froms.length === 0) return ['no FROM']
  const final = froms.at(-1) as string
  const node = /^node:(\d+)(?:\.(\d+))?[^:]*$/.exec(final)
  if (node === null) errs.push(`final base ${final} is not an official multi-arch node image`)
  else {
    const major = Number(node[1])
    const minor = node[2] === undefined ? Infinity : Number(node[2])
    if (major < 20 || (major === 20 && minor < 19)) errs.push(`final base ${final} is older than Node 20.19`)
    if (!/slim/.test(final)) errs.push(`final base ${final} is not a slim image`)
  }
  const finalStage = lines.slice(lines.findLastIndex((l) => /^FROM\s/i.test(l)))
  const user = finalStage
    .filter((l) => /^USER\s/i.test(l))
    .at(-1)
    ?.split(/\s+/)[1]
  if (user === undefined || user === 'root' || user === '0') errs.push('the final stage must switch to a non-root USER')
  if (!finalStage.some((l) => /^(CMD|ENTRYPOINT)\s/i.test(l))) errs.push('no CMD or ENTRYPOINT in the final stage')
  if (lines.some((l) => /^ADD\s+https?:/i.test(l))) errs.push('ADD of a URL (unverified download)')
  return errs
}
