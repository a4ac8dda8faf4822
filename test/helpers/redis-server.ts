import { startDisposableRedis } from './disposable-server.ts'

/** `await DisposableRedis.start()`: a redis-server of the test's own, with start(), stop() and url. */
export const DisposableRedis = { start: startDisposableRedis }
