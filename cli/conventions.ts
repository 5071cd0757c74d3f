/** Every command's exit statuses, `--json` and stdin/stdout, as data: the README table is generated from it and a test runs each row. */

/**
 * The one convention (README "Commands at a glance"):
 * - exit 0 ok; 1 a check failed (a message rejected, a record not matching, a broker that did not acknowledge);
 *   2 usage or input error (an unknown flag, a missing or stray argument, an unreadable or oversized input, a
 *   device path that is not there). Errors are one line on stderr: `daneel: WHAT [CODE]`, and for usage errors
 *   `(see daneel COMMAND --help)`.
 * - `--json`: a command whose output is data takes it. open, send and listen always print JSON and accept
 *   `--json` as a no-op; seal prints the sealed message itself (`--serialization json` is its JSON form); run
 *   and provision print logs or a console, whose log lines are JSON with `--log-format json` (LOG_FORMAT=json).
 */
export interface CommandConvention {
  /** As typed after `daneel`. */
  readonly command: string
  /** What exit 0, 1 and 2 mean for this command ('-' when it never exits with that status). */
  readonly exit: readonly [string, string, string]
  /** 'yes' (text by default, JSON with --json), 'always' (JSON always; --json accepted), 'no' (not data). */
  readonly json: 'yes' | 'always' | 'no'
  readonly stdin: string
  readonly stdout: string
  /** A bad use the test runs (besides an unknown flag), expecting exit 2 and one line on stderr. */
  readonly badUsage: readonly string[]
}

const USAGE = 'usage or input error'

export const CONVENTIONS: readonly CommandConvention[] = [
  {
    command: 'identity create',
    exit: ['created (or already there: left unchanged)', '-', USAGE],
    json: 'yes',
    stdin: '-',
    stdout: 'what was written and the TLSA record to publish',
    badUsage: ['identity', 'create', '--days', '-5'],
  },
  {
    command: 'identity tlsa',
    exit: ['printed; --verify: the RRset matches', '--verify: no match', USAGE],
    json: 'yes',
    stdin: '-',
    stdout: 'the TLSA zone-file line (or --rdata)',
    badUsage: ['identity', 'tlsa', '--ttl', '-1'],
  },
  {
    command: 'identity install',
    exit: ['installed', '-', `${USAGE} (wrong key or name: nothing written)`],
    json: 'yes',
    stdin: "the certificate with '-'",
    stdout: 'what was installed and the TLSA record',
    badUsage: ['identity', 'install'],
  },
  {
    command: 'identity show',
    exit: ['shown', '-', USAGE],
    json: 'yes',
    stdin: '-',
    stdout: 'key, certificate, TLSA to publish',
    badUsage: ['identity', 'show', 'extra'],
  },
  {
    command: 'identity check',
    exit: ['published, validated and matching', 'not (yet) matching, or a digest only', USAGE],
    json: 'yes',
    stdin: '-',
    stdout: 'the verdict and what to publish',
    badUsage: ['identity', 'check', '--timeout', '-5'],
  },
  {
    command: 'identity rotate',
    exit: ['step done', 'DNS not ready for the step', USAGE],
    json: 'yes',
    stdin: '-',
    stdout: 'the step and the records to publish',
    badUsage: ['identity', 'rotate', '--commit', '--finish'],
  },
  {
    command: 'lookup',
    exit: ['records found and trusted', 'bogus, indeterminate, untrusted or none', USAGE],
    json: 'yes',
    stdin: '-',
    stdout: 'the RRset and its validation status',
    badUsage: ['lookup'],
  },
  {
    command: 'seal',
    exit: ['sealed', 'recipient key not found or not trusted', `${USAGE} (input over MAX_MESSAGE_SIZE too)`],
    json: 'no',
    stdin: 'the reading (JSON object) or bytes',
    stdout: 'the sealed message',
    badUsage: ['seal', 'stray'],
  },
  {
    command: 'open',
    exit: ['authentic', 'rejected (the code on stderr)', `${USAGE} (a message over MAX_MESSAGE_SIZE too)`],
    json: 'always',
    stdin: 'one sealed message',
    stdout: 'one JSON object: from, claims, reading or payload, auth',
    badUsage: ['open', 'stray'],
  },
  {
    command: 'send',
    exit: ['acknowledged by the broker', 'not acknowledged within --timeout', `${USAGE} (a message over MAX_MESSAGE_SIZE too)`],
    json: 'always',
    stdin: '-',
    stdout: 'one JSON object: to, seq, profile, auth',
    badUsage: ['send', 'only-a-name'],
  },
  {
    command: 'listen',
    exit: ['--count reached, or stopped', 'a fault it cannot run through', USAGE],
    json: 'always',
    stdin: '-',
    stdout: 'one JSON line per authenticated message',
    badUsage: ['listen', '--count', '-5'],
  },
  {
    command: 'gateway',
    exit: [
      'stopped (SIGTERM/SIGINT), what was taken committed; --declare-only: declared',
      'a fault it cannot run through; --declare-only: no broker answered',
      `${USAGE} (bad --store, --http, --source, --open-workers)`,
    ],
    json: 'no',
    stdin: '-',
    stdout: '- (logs on stderr; the readings over HTTP: --http; opens on --open-workers N threads); --declare-only: what was declared',
    badUsage: ['gateway', '--open-workers', 'many'],
  },
  {
    command: 'run',
    exit: ['stopped (SIGTERM/SIGINT), outbox drained', 'a fault it cannot run through', `${USAGE} (bad config)`],
    json: 'no',
    stdin: '-',
    stdout: '- (logs on stderr; --log-format json)',
    badUsage: ['run'],
  },
  {
    command: 'provision',
    exit: ['finished', 'left unfinished (--stdio, --once)', `${USAGE} (no such serial device too)`],
    json: 'no',
    stdin: 'the console with --stdio',
    stdout: 'the console with --stdio; --first-boot: the steps',
    badUsage: ['provision', '--stdio', '--first-boot'],
  },
  {
    command: 'monitor',
    exit: ['healthy', 'a warning or a failure (severity in the output)', USAGE],
    json: 'yes',
    stdin: '-',
    stdout: 'a table when not healthy (or --verbose)',
    badUsage: ['monitor', '--warn-days', '-1'],
  },
  {
    command: 'demo',
    exit: ['stopped, or --count reached', 'a fault it cannot run through', USAGE],
    json: 'yes',
    stdin: '-',
    stdout: 'one line per verified message',
    badUsage: ['demo', 'stray'],
  },
  {
    command: 'sensor calibrate',
    exit: ['sent', 'the write failed', `${USAGE} (not confirmed, no such sensor, not an MH-Z19B, no such port: nothing sent)`],
    json: 'yes',
    stdin: 'the y/N confirmation, on a terminal',
    stdout: 'what was sent, to which port',
    badUsage: ['sensor', 'calibrate', 'co2'],
  },
]

const cell = (s: string): string => s.replaceAll('|', '\\|')

/** The README table (between `<!-- cli-conventions -->` markers), one row per command. */
export function renderConventionsTable(rows: readonly CommandConvention[] = CONVENTIONS): string {
  const json = { yes: 'yes', always: 'always JSON (accepted)', no: '-' }
  const lines = ['| command | exit 0 | exit 1 | exit 2 | `--json` | stdin | stdout |', '| --- | --- | --- | --- | --- | --- | --- |']
  for (const r of rows) {
    lines.push(`| \`daneel ${r.command}\` | ${r.exit.map(cell).join(' | ')} | ${json[r.json]} | ${cell(r.stdin)} | ${cell(r.stdout)} |`)
  }
  return `${lines.join('\n')}\n`
}
