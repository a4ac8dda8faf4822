import { Type } from 'typebox'
import type { Session } from '../../src/sessions/session-repository.ts'

export const SessionSchema = Type.Object({
  id: Type.String(),
  current: Type.Boolean({ description: 'the session of the access token used for this request' }),
  amr: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()])
})

export const SessionListSchema = Type.Object({ sessions: Type.Array(SessionSchema) }, {
  examples: [{
    sessions: [{
      id: '665f1c2b9d3e4a0012345679',
      current: true,
      amr: ['otp'],
      createdAt: '2026-11-23T10:00:00.000Z',
      lastUsedAt: '2026-11-23T10:14:00.000Z',
      expiresAt: '2026-12-23T10:14:00.000Z',
      userAgent: 'Mozilla/5.0',
      ip: '203.0.113.7'
    }]
  }]
})

/** A live session as SessionSchema shows it; `currentId`, the caller's own session (null for an administrator). */
export const sessionView = (session: Session, currentId: string | null) => ({
  id: session.id,
  current: session.id === currentId,
  amr: session.amr,
  createdAt: session.createdAt.toISOString(),
  lastUsedAt: session.lastUsedAt.toISOString(),
  expiresAt: session.expiresAt.toISOString(),
  userAgent: session.userAgent,
  ip: session.ip
})
