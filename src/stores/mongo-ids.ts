import { Types } from 'mongoose'

/** The ObjectId an id in hex names, or null for a string that cannot be one: no query is sent for it. */
export const toObjectId = (id: string): Types.ObjectId | null => /^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : null
