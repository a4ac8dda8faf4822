const UNAVAILABLE_NAMES = new Set([
  'MaxRetriesPerRequestError', 'ClusterAllFailedError',
  'MongoServerSelectionError', 'MongooseServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError',
  'MongoNotConnectedError', 'MongoTopologyClosedError', 'MongoPoolClearedError', 'MongoWaitQueueTimeoutError', 'MongoOperationTimeoutError'
])
const UNAVAILABLE_MESSAGES = /enableOfflineQueue options is false|Connection is closed|Command timed out|Connection pool .* closed|Client must be connected/
/** Redis replies that say "not now" (a failover, a replica, a restart, memory full), not "never" */
const UNAVAILABLE_REPLIES = new Set(['READONLY', 'LOADING', 'OOM', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN'])
/**
 * MongoDB codes of a primary stepping down or away, a shutdown or the network: HostUnreachable, HostNotFound,
 * NetworkTimeout, ShutdownInProgress, PrimarySteppedDown, SocketException, NotWritablePrimary, InterruptedAtShutdown,
 * InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
 */
const UNAVAILABLE_MONGO_CODES = new Set([6, 7, 89, 91, 189, 9001, 10107, 11600, 11602, 13435, 13436])

interface StoreError extends Error { code?: unknown, codeName?: unknown, command?: { name?: unknown } }

/** A Redis reply error (ioredis attaches the command, arguments included) */
const isRedisReply = (error: StoreError) => error.name === 'ReplyError' || typeof error.command?.name === 'string'
const isMongoError = (error: StoreError) => typeof error.name === 'string' && error.name.startsWith('Mongo')
/** The first word of a Redis error reply: READONLY, OOM, ERR, NOSCRIPT… */
const replyCode = (error: StoreError) => /^[A-Z]+(?= )/.exec(error.message)?.[0]

/** Redis or MongoDB did not answer in time, or cannot take writes now: the client may retry soon, and nothing was decided. */
export function isStoreUnavailable (error: Error): boolean {
  const storeError = error as StoreError
  if (UNAVAILABLE_NAMES.has(error.name) || UNAVAILABLE_MESSAGES.test(error.message)) return true
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
  const redis = isRedisReply(storeError) || UNAVAILABLE_NAMES.has(error.name) || UNAVAILABLE_MESSAGES.test(error.message)
  if (!redis && !isMongoError(storeError)) return null
  const command = typeof storeError.command?.name === 'string' ? storeError.command.name : undefined
  const code = isRedisReply(storeError) ? replyCode(storeError) : (storeError.codeName ?? storeError.code)
  return { type: error.name, ...(command === undefined ? {} : { command }), ...(code === undefined ? {} : { errorCode: String(code) }) }
}
