/** The dashboard's files: a fixed allow-list of URL paths to files in this package, read once at start-up. */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface StaticFile {
  body: Buffer
  type: string
}

/**
 * Only these paths are served, each from a file named here (never from the URL): no request can reach any other
 * file, so no key material and no path traversal. The dashboard sources live in gateway/dashboard (found from
 * this compiled file's place in build/gateway/http or gateway/http); uPlot from its installed package.
 */
export function loadStaticFiles(): Map<string, StaticFile> {
  const here = dirname(fileURLToPath(import.meta.url))
  const dash = findDashboard(here)
  const uplotDist = findUplot(dash)
  const files: [string, string, string][] = [
    ['/', join(dash, 'index.html'), 'text/html; charset=utf-8'],
    ['/app.js', join(dash, 'app.js'), 'text/javascript; charset=utf-8'],
    ['/style.css', join(dash, 'style.css'), 'text/css; charset=utf-8'],
    ['/vendor/uPlot.iife.min.js', join(uplotDist, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/vendor/uPlot.min.css', join(uplotDist, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ]
  return new Map(files.map(([url, path, type]) => [url, { body: readFileSync(path), type }]))
}

function findDashboard(here: string): string {
  // Source tree: gateway/http -> gateway/dashboard. Compiled: build/gateway/http -> ../../../gateway/dashboard.
  // A bundle (dist/daneel.js) finds dist/dashboard, where the build copies it.
  for (const c of [join(here, '../dashboard'), join(here, '../../../gateway/dashboard'), join(here, 'dashboard')]) {
    try {
      readFileSync(join(c, 'index.html'))
      return c
    } catch {}
  }
  throw new Error(`gateway dashboard files not found near ${here}`)
}

/** uPlot's dist folder from the installed package, else dashboard/vendor (where a bundle's build copies it). */
function findUplot(dash: string): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist')
  } catch {
    return join(dash, 'vendor')
  }
}
