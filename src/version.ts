/** The software version, as in package.json (test/src/version.test.ts keeps them equal): `--version`, status messages. */
export const VERSION = '0.1.0'
