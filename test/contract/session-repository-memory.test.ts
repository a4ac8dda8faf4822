import t from 'tap'
import { MemorySessionRepository } from '../../src/sessions/memory-session-repository.ts'
import { sessionRepositoryContract } from './session-repository.ts'

sessionRepositoryContract(t, async () => {
  const sessions = new MemorySessionRepository()
  await sessions.init()
  return sessions
})
