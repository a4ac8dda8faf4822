import t from 'tap'
import { Cluster } from 'ioredis'
import Fastify from 'fastify'
import redisPlugin, { createRedisClient } from '../../plugins/redis.ts'
import { loadConfig } from '../../src/config.ts'

// What a Cluster client does when a node fails is seen under load by `npm run faults` (scenario c); here, that it
// asks for the slot map again at all: ioredis itself does so only on MOVED or CLUSTERDOWN answers.
t.test('createRedisClient, Cluster: a node that fails or leaves makes the client ask for the slot map again', async (t) => {
  const client = createRedisClient(loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }))
  t.ok(client instanceof Cluster, 'REDIS_CLUSTER_NODES: a Cluster client (not connected: lazyConnect)')
  const cluster = client as Cluster
  // no retry loop of ioredis's own (up to 16 tries, 100 ms apart) holds a request past the failover: it is refused
  // at once with 503 and Retry-After, as a command outside a Cluster is (no offline queue)
  t.equal(cluster.options.retryDelayOnClusterDown, 0, 'CLUSTERDOWN: refused at once')
  t.equal(cluster.options.retryDelayOnFailover, 0, 'a node\'s connection closed: refused at once')
  let refreshes = 0
  cluster.refreshSlotsCache = () => { refreshes++ }
  cluster.emit('node error', new Error('connect ECONNREFUSED'), '127.0.0.1:7000')
  t.equal(refreshes, 1, 'a node\'s connection failed: refreshed')
  cluster.emit('-node', undefined, '127.0.0.1:7000')
  t.equal(refreshes, 2, 'a node left the pool: refreshed')
  cluster.disconnect()
})

t.test('the redis plugin, Cluster: every node\'s connection is open before the first request, replicas\' too', async (t) => {
  const app = Fastify()
  // one seed node, as a deployment may name: the others are known from the slot map only
  const seed = (process.env.TEST_REDIS_CLUSTER_NODES ?? '').split(',')[0] ?? ''
  await app.register(redisPlugin, { config: loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: seed }) })
  await app.ready()
  t.teardown(() => app.close())
  const cluster = app.redis as Cluster
  const primaries = cluster.nodes('master')
  const replicas = cluster.nodes('slave')
  t.ok(primaries.length >= 3, `${primaries.length} primaries`)
  // a command that met a primary's connection still opening was refused ("Connection is closed"): 503s at start
  t.same(primaries.map((node) => node.status), primaries.map(() => 'ready'))
  // and one that met a promoted replica's, opened only by the failover, past the failover's end (faults, c)
  t.ok(replicas.length > 0, `${replicas.length} replicas`)
  t.same(replicas.map((node) => node.status), replicas.map(() => 'ready'))
})
