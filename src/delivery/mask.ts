/**
 * A form of an email address or phone number that is safe to log and still helps support:
 * `jane@example.org` → `j***@example.org`, `+12015550123` → `+1******0123`.
 */
export function maskDestination (destination: string): string {
  const at = destination.lastIndexOf('@')
  if (at > 0) return `${destination[0]}***${destination.slice(at)}`
  if (destination.length <= 6) return '***'
  return `${destination.slice(0, 2)}${'*'.repeat(destination.length - 6)}${destination.slice(-4)}`
}
