import { AppError } from '../errors.ts'

/** what a 503 for an unreachable store tells the client to wait */
export const STORE_RETRY_AFTER_SECONDS = 2

const UNAVAILABLE_NAMES = new Set([
  'MaxRetriesPerRequestError', 'ClusterAllFailedError', 'StoreTimeoutError', 'ReplicasBehindError',
  'MongoServerSelectionError', 'MongooseServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError',
  'MongoNotConnectedError', 'MongoTopologyClosedError', 'MongoPoolClearedError', 'MongoWaitQueueTimeoutError', 'MongoOperationTimeoutError',
  // the driver's name for a pool its monitor cleared after a timeout (a stalled server), without the Mongo prefix
  'PoolClearedOnNetworkError'
])
// "Too many Cluster redirections": ioredis gave up following MOVED/TRYAGAIN/CLUSTERDOWN while a Cluster fails over
const UNAVAILABLE_MESSAGES = /enableOfflineQueue options is false|Connection is closed|Command timed out|Connection pool .* closed|Client must be connected|Too many Cluster redirections/
/** Redis replies that say "not now" (a failover, a replica, a restart, memory full), not "never" */
const UNAVAILABLE_REPLIES = new Set(['READONLY', 'LOADING', 'OOM', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN'])
/**
 * MongoDB codes of a primary stepping down or away, a shutdown or the network: HostUnreachable, HostNotFound,
 * NetworkTimeout, ShutdownInProgress, PrimarySteppedDown, SocketException, NotWritablePrimary, InterruptedAtShutdown,
 * InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
 */
const UNAVAILABLE_MONGO_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436])
/**
 * Socket errors a driver may rethrow unwrapped: the MongoDB driver passes on net's EPIPE ("This socket has been
 * ended by the other party") when the server was killed with a command in flight. Only stores hold sockets here.
 */
const UNAVAILABLE_SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT'])

/** A store call that outlived its deadline (store-deadline.ts); what it was doing is abandoned, not undone. */
export class StoreTimeoutError extends Error {
  override name = 'StoreTimeoutError'
}

interface StoreError extends Error { code?: unknown, codeName?: unknown, command?: { name?: unknown } }

/** A Redis reply error (ioredis attaches the command, arguments included) */
const isRedisReply = (error: StoreError) => error.name === 'ReplyError' || typeof error.command?.name === 'string'
const isMongoError = (error: StoreError) => typeof error.name === 'string' && (error.name.startsWith('Mongo') || error.name.startsWith('PoolCleared'))
/** The first word of a Redis error reply: READONLY, OOM, ERR, NOSCRIPT… */
const replyCode = (error: StoreError) => /^[A-Z]+(?= )/.exec(error.message)?.[0]

/**
 * Redis or MongoDB did not answer in time, or cannot take writes now: the client may retry soon, and nothing was
 * decided.
 */
export function isStoreUnavailable (error: Error): boolean {
  const storeError = error as StoreError
  if (UNAVAILABLE_NAMES.has(error.name) || UNAVAILABLE_MESSAGES.test(error.message)) return true
  if (UNAVAILABLE_SOCKET_CODES.has(storeError.code as string)) return true
  if (isRedisReply(storeError)) return UNAVAILABLE_REPLIES.has(replyCode(storeError) ?? '')
  return isMongoError(storeError) && UNAVAILABLE_MONGO_CODES.has(storeError.code as number)
}

/**
 * What a log line may say of a Redis or MongoDB error: its type, command name and code. Their messages and
 * properties quote commands, arguments and duplicate keys, which hold emails and phone numbers. null for any
 * other error. (`errorCode`, as `code` is a redacted name: one-time codes.)
 */
export function storeErrorSummary (error: Error): { type: string, command?: string, errorCode?: string } | null {
  const storeError = error as StoreError
  const redis = isRedisReply(storeError) || UNAVAILABLE_NAMES.has(error.name) ||
    UNAVAILABLE_MESSAGES.test(error.message)
  if (!redis && !isMongoError(storeError)) return null
  const command = typeof storeError.command?.name === 'string' ? storeError.command.name : undefined
  const code = isRedisReply(storeError) ? replyCode(storeError) : (storeError.codeName ?? storeError.code)
  return {
    type: error.name,
    ...(command === undefined ? {} : { command }),
    ...(code === undefined ? {} : { errorCode: String(code) })
  }
}

/**
 * For code that decides whether a caller is authenticated: a Redis or MongoDB error there, whatever it is, says
 * nothing about the token, so it answers 503 with Retry-After, never 401 (clients would throw good tokens away)
 * nor 500. Other errors are returned as they are.
 */
export function unavailableIfStoreError (error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof AppError) return error
  if (!isStoreUnavailable(error) && storeErrorSummary(error) === null) return error
  return storeUnavailable(error)
}

/** The 503 of an unreachable store, with the Retry-After every such answer gives. */
export const storeUnavailable = (cause?: Error): AppError =>
  new AppError('service_unavailable', { detail: 'A data store is unreachable; try again shortly.', retryAfter: STORE_RETRY_AFTER_SECONDS, cause })
