/** A store URL without its password, for messages and logs (a `postgres://user:secret@host` never reaches a log). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://(unparsable URL)'
  }
}
