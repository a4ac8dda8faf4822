import t from 'tap'
import { MemoryDeliveryBacklog, MemoryDeliveryQueue } from '../../src/delivery/memory-delivery-queue.ts'
import { deliveryQueueContract } from './delivery-queue.ts'

deliveryQueueContract(t, async () => {
  const backlog = new MemoryDeliveryBacklog()
  const opened: MemoryDeliveryQueue[] = []
  return {
    open: (options = {}) => {
      const queue = new MemoryDeliveryQueue({ concurrency: 50, graceMs: 10_000, ...options, backlog })
      opened.push(queue)
      return queue
    },
    dumpStorage: async () => JSON.stringify({ waiting: backlog.waiting, failed: backlog.failed }),
    close: async () => { await Promise.all(opened.map((queue) => queue.close())) }
  }
})
