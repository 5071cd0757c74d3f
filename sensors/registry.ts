/** Every sensor descriptor in this build, in the order the config schema lists their types: adding a chip adds one line. */
import { bme280Descriptor } from './bme280/descriptor.js'
import type { SensorDescriptor } from './descriptor.js'
import { mhz19bDescriptor } from './mhz19/descriptor.js'
import { pms5003Descriptor } from './pms5003/descriptor.js'
import { ppd42nsDescriptor } from './ppd42/descriptor.js'
import { sds011Descriptor } from './sds011/descriptor.js'

export const SENSOR_DESCRIPTORS: readonly SensorDescriptor[] = [
  pms5003Descriptor,
  sds011Descriptor,
  mhz19bDescriptor,
  ppd42nsDescriptor,
  bme280Descriptor,
]

const BY_TYPE: ReadonlyMap<string, SensorDescriptor> = new Map(SENSOR_DESCRIPTORS.flatMap((d) => d.types.map((t) => [t, d] as const)))

/** Every config `type` a descriptor builds, in registry order. */
export const SENSOR_TYPES: readonly string[] = [...BY_TYPE.keys()]

/** The descriptor that builds a config `type`, or undefined. */
export function findSensor(type: string): SensorDescriptor | undefined {
  return BY_TYPE.get(type)
}
