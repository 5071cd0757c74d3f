/** Units of the kernel's IIO drivers for the Bosch climate sensors, converted to °C, hPa, %RH and ohms (pure). */

/*
 * What the kernel prints (IIO sysfs ABI; drivers/iio/pressure/bmp280-core.c, drivers/iio/chemical/bme680_core.c):
 *   in_temp_input             m°C in both drivers ("centidegrees to millidegrees": comp_temp * 10).
 *   in_pressure_input         kPa (bmp280: comp/256000, "IIO units are in kPa"; bme680: Pa/1000). bme680 kernels
 *                             before the 2024 fix "The IIO standard units are measured in kPa while the driver is
 *                             using hPa" printed hPa (val2 = 100). Air pressure is 30-110 kPa = 300-1100 hPa, so the
 *                             two cannot be confused: a value above 200 is already hPa.
 *   in_humidityrelative_input bmp280 driver (name bme280): milli-%RH ("IIO units are in 1000 * %": comp*1000/1024);
 *                             bme680 driver: %RH (comp_humidity / 1000, the milli value divided down).
 *   in_resistance_input       bme680 gas resistance, ohms (IIO_VAL_INT).
 * Fractional values print as "%d.%09u" (e.g. "100.904531250"), integers plainly.
 */

/** The IIO `name` attribute values we drive. */
export type IioChip = 'bme280' | 'bmp280' | 'bme680'

export function isIioChip(name: string): name is IioChip {
  return name === 'bme280' || name === 'bmp280' || name === 'bme680'
}

/** Parse sysfs text strictly: a decimal number and a newline, nothing else (NaN otherwise). */
export function parseIioNumber(text: string): number {
  const t = text.trim()
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : Number.NaN
}

export function iioTemperatureC(raw: number): number {
  return raw / 1000
}

export function iioPressureHpa(raw: number): number {
  return raw > 200 ? raw : raw * 10
}

export function iioHumidityPct(chip: IioChip, raw: number): number {
  return chip === 'bme680' ? raw : raw / 1000
}

/** The Bosch compensation clamps (Bosch BME280 datasheet §4.2.3, BME280_SensorAPI bme280.c): outside them a value is not a measurement. */
export function bmePlausible(tempC: number, pressureHpa: number, humidityPct: number): boolean {
  const tOk = tempC >= -40 && tempC <= 85
  const pOk = Number.isNaN(pressureHpa) || (pressureHpa >= 300 && pressureHpa <= 1100)
  const hOk = Number.isNaN(humidityPct) || (humidityPct >= 0 && humidityPct <= 100)
  return tOk && pOk && hOk
}
