const UNAVAILABLE_NAMES = new Set([
  'MaxRetriesPerRequestError', 'ClusterAllFailedError',
  'MongoServerSelectionError', 'MongooseServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError',
  'MongoNotConnectedError', 'MongoTopologyClosedError', 'MongoPoolClearedError', 'MongoWaitQueueTimeoutError', 'MongoOperationTimeoutError'
])
const UNAVAILABLE_MESSAGES = /enableOfflineQueue options is false|Connection is closed|Command timed out|Connection pool .* closed|Client must be connected/

/** Redis or MongoDB did not answer in time: the client may retry soon, and nothing was decided. */
export function isStoreUnavailable (error: Error): boolean {
  return UNAVAILABLE_NAMES.has(error.name) || UNAVAILABLE_MESSAGES.test(error.message)
}
