/** Simulated air for the demo: slowly drifting particulate and CO2 levels, encoded as the real chips' frames by the sensors' emulators. */
import { encodeMhzReading } from '../../sensors/fakes/mhz19b-emulator.js'
import { encodePmsFrame } from '../../sensors/fakes/pms5003-emulator.js'
import { encodeSdsFrame } from '../../sensors/fakes/sds011-emulator.js'

/*
 * A bounded random walk per quantity, so the printed readings look like a room: PM2.5 between 3 and 60 µg/m³
 * (WHO's 24 h guideline is 15), PM10 about 1.4 times it, particle counts scaled from the captured PMS frame
 * (PM2.5 8 with 210 particles > 0.3 µm per 0.1 L), CO2 420-1600 ppm (outdoor air to a stuffy meeting room).
 */
export class Air {
  pm25: number
  co2: number
  private readonly random: () => number

  constructor(seedPm25 = 8, seedCo2 = 640, random: () => number = Math.random) {
    this.pm25 = seedPm25
    this.co2 = seedCo2
    this.random = random
  }

  step(): void {
    this.pm25 = Math.min(60, Math.max(3, this.pm25 + (this.random() - 0.5) * 2.5))
    this.co2 = Math.min(1600, Math.max(420, this.co2 + (this.random() - 0.45) * 25))
  }

  /** A 32-byte PMS5003 frame for the current air (atmospheric and CF=1 values equal below 30 µg/m³, as in the capture). */
  pmsFrame(): Uint8Array {
    this.step()
    const pm25 = Math.round(this.pm25)
    const pm1 = Math.round(pm25 * 0.7)
    const pm10 = Math.round(pm25 * 1.4)
    const n03 = Math.round(pm25 * 26)
    return encodePmsFrame({
      pm1Cf1: pm1,
      pm25Cf1: pm25,
      pm10Cf1: pm10,
      pm1,
      pm25,
      pm10,
      n03,
      n05: Math.round(n03 / 3),
      n1: Math.round(n03 / 5),
      n25: Math.round(n03 / 7),
      n5: Math.round(n03 / 40),
      n10: Math.round(n03 / 100),
    })
  }

  /** A 10-byte SDS011 frame (tenths of µg/m³). */
  sdsFrame(): Uint8Array {
    this.step()
    return encodeSdsFrame(Math.round(this.pm25 * 10) / 10, Math.round(this.pm25 * 14) / 10)
  }

  /** A 9-byte MH-Z19B read reply. */
  mhzFrame(): Uint8Array {
    this.step()
    return encodeMhzReading(Math.round(this.co2), 24)
  }
}
