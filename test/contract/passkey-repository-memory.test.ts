import t from 'tap'
import { MemoryPasskeyRepository } from '../../src/passkeys/memory-passkey-repository.ts'
import { passkeyRepositoryContract } from './passkey-repository.ts'

passkeyRepositoryContract(t, async () => {
  const repository = new MemoryPasskeyRepository()
  await repository.init()
  return repository
})
