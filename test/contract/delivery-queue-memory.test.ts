import t from 'tap'
import { MemoryDeliveryBacklog, MemoryDeliveryQueue } from '../../src/delivery/memory-delivery-queue.ts'
import { deliveryQueueContract } from './delivery-queue.ts'

deliveryQueueContract(t, async () => {
  // one backlog per queue name, as Redis holds one BullMQ queue per name
  const backlogs = new Map<string, MemoryDeliveryBacklog>()
  const backlogOf = (name: string) => backlogs.get(name) ?? backlogs.set(name, new MemoryDeliveryBacklog()).get(name)!
  const opened: MemoryDeliveryQueue[] = []
  return {
    open: (options = {}) => {
      const queue = new MemoryDeliveryQueue({ concurrency: 50, graceMs: 10_000, ...options, backlog: backlogOf(options.name ?? 'outbound') })
      opened.push(queue)
      return queue
    },
    dumpStorage: async () => JSON.stringify([...backlogs.values()].map(({ waiting, failed }) => ({ waiting, failed }))),
    close: async () => { await Promise.all(opened.map((queue) => queue.close())) }
  }
})
