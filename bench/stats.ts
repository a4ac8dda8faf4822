/** The middle value (the mean of the two middle ones for an even count). */
export function median (values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Two decimals, as ratios are reported. */
export const round2 = (value: number) => Math.round(value * 100) / 100
