/** `daneel run --config FILE`: the device runtime (device/main.ts), run in the foreground until SIGTERM/SIGINT. */
import { main } from '../../device/main.js'

export const summary = 'the device runtime: sensors to sealed MQTT publications'

export async function run(argv: string[]): Promise<number> {
  return main(argv, process.env)
}
