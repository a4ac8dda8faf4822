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
export function withDeadline<Adapter extends object> (adapter: Adapter, timeoutMs: number, name: string): Adapter {
  // one wrapper per method, made at its first call: requests read `users.findById` and the like all the time
  const wrappers = new Map<PropertyKey, unknown>()
  return new Proxy(adapter, {
    get (target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      let wrapper = wrappers.get(property)
      if (wrapper === undefined) {
        // called on the adapter itself, not the proxy: its #private fields are not the proxy's
        wrapper = UNBOUNDED.has(property)
          ? value.bind(target)
          : (...args: unknown[]) => {
              const result: unknown = value.apply(target, args)
              return result instanceof Promise ? race(result, timeoutMs, name, property) : result
            }
        wrappers.set(property, wrapper)
      }
      return wrapper
    }
  })
}

/** The call's outcome, or StoreTimeoutError once `timeoutMs` has passed; an abandoned call's failure is dropped. */
function race<T> (call: Promise<T>, timeoutMs: number, name: string, method: PropertyKey): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new StoreTimeoutError(`${name}.${String(method)} took longer than ${timeoutMs} ms`))
    }, timeoutMs)
    call.then(
      (value) => { clearTimeout(timer); resolve(value) },
      (error: unknown) => { clearTimeout(timer); reject(error) }
    )
  })
}
