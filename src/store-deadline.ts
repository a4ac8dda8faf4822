import { StoreTimeoutError } from './store-errors.ts'

/** Methods that run at start-up or shutdown: they keep the driver's own, longer timeouts (index builds). */
const UNBOUNDED = new Set<PropertyKey>(['init', 'close'])

/**
 * The adapter with every call bounded by `timeoutMs`: past it, the call rejects with StoreTimeoutError (503),
 * as a Redis command does past its commandTimeout. The MongoDB driver 7 has no per-operation client timeout (its
 * `timeoutMS` is a no-op, `maxTimeMS` needs a server that answers, and a read is retried once after a socket
 * timeout), so a frozen server would hold a request for twice the socket timeout.
 * The late call is abandoned, not cancelled: its result is dropped when it comes (a write may still land, as after
 * any timeout), and the socket timeout of the connection ends it at the latest.
 */
export function withDeadline<Adapter extends object> (
  adapter: Adapter, timeoutMs: number, name: string, background: ReadonlyArray<keyof Adapter> = []
): Adapter {
  // `background`: methods no request waits for (a sweep), left to the driver's own timeouts too
  const unbounded = new Set<PropertyKey>([...UNBOUNDED, ...background])
  return new Proxy(adapter, {
    get (target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      // called on the adapter itself, not the proxy: its #private fields are not the proxy's
      if (unbounded.has(property)) return value.bind(target)
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args)
        return result instanceof Promise ? race(result, timeoutMs, `${name}.${String(property)}`) : result
      }
    }
  })
}

function race<T> (call: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(`${what} took longer than ${timeoutMs} ms`)), timeoutMs)
  })
  // an abandoned call that fails later is nobody's error
  call.catch(() => {})
  return Promise.race([call, deadline]).finally(() => clearTimeout(timer))
}
