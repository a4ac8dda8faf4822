import t from 'tap'
import { MemoryTotpCredentialRepository } from '../../src/totp/memory-totp-credential-repository.ts'
import { totpCredentialRepositoryContract } from './totp-credential-repository.ts'

totpCredentialRepositoryContract(t, async () => {
  const repository = new MemoryTotpCredentialRepository()
  await repository.init()
  return repository
})
