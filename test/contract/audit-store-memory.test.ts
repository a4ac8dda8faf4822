import t from 'tap'
import { MemoryAuditStore } from '../../src/audit/memory-audit-store.ts'
import { auditStoreContract } from './audit-store.ts'

auditStoreContract(t, async () => new MemoryAuditStore())
