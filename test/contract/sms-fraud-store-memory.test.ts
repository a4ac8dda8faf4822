import t from 'tap'
import { MemorySmsFraudStore } from '../../src/delivery/memory-sms-fraud-store.ts'
import { smsFraudStoreContract } from './sms-fraud-store.ts'

smsFraudStoreContract(t, async () => ({ store: new MemorySmsFraudStore() }))
