import { Types, type Connection, type Model, type Schema } from 'mongoose'

/** The connection's model of that name, compiled on first use: adapters built twice on one connection share it. */
export const modelOf = <T>(connection: Connection, name: string, schema: Schema<T>): Model<T> =>
  connection.models[name] as Model<T> | undefined ?? connection.model<T>(name, schema)

/** The ObjectId an id in hex names, or null for a string that cannot be one: no query is sent for it. */
export const toObjectId = (id: string): Types.ObjectId | null => /^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : null
