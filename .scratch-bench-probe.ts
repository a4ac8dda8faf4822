import mongoose from 'mongoose'
import { randomBytes } from 'node:crypto'
const conn = await mongoose.createConnection(process.env.MONGODB_URL!.replace(/\/[^/]*$/, '/probe')).asPromise()
const db = conn.db!
const col = db.collection<any>('probe_scan')
await col.drop().catch(() => {})
const ids: any[] = []
for (const target of [100, 1000, 10000]) {
  while (ids.length < target) {
    const docs = Array.from({ length: 500 }, () => ({ _id: randomBytes(12).toString('hex'), tokenHash: randomBytes(32).toString('hex'), at: new Date() }))
    await col.insertMany(docs); ids.push(...docs.map(d => d._id))
  }
  const t = performance.now(); let n = 0
  await Promise.all(Array.from({ length: 20 }, async () => { while (performance.now() - t < 2000) { await col.findOne({ _id: ids[Math.floor(Math.random() * ids.length)] }); n++ } }))
  console.log(ids.length, 'docs: findOne', Math.round(n / 2), 'ops/s')
  const t2 = performance.now(); let m = 0
  await Promise.all(Array.from({ length: 20 }, async () => { while (performance.now() - t2 < 2000) { await db.command({ ping: 1 }); m++ } }))
  console.log(ids.length, 'docs: ping', Math.round(m / 2), 'ops/s')
}
console.log(JSON.stringify(await col.find({ _id: ids[0] }).explain()).slice(0, 600))
await conn.dropDatabase(); await conn.close()
