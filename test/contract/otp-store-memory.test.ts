import t from 'tap'
import { MemoryOtpStore } from '../../src/otp/memory-otp-store.ts'
import { otpStoreContract } from './otp-store.ts'

// the injected clock makes time pass without sleeping
otpStoreContract(t, async () => {
  let clock = Date.parse('2026-11-23T10:00:00.000Z')
  const store = new MemoryOtpStore({ now: () => clock })
  return {
    store,
    now: () => clock,
    elapse: async (ms) => { clock += ms },
    close: () => store.close()
  }
})
