// cluster-key-slot (ioredis's own) ships no types
declare module 'cluster-key-slot' {
  /** the Redis Cluster slot (0–16383) of a key, by its hash tag when it has one */
  export default function calculateSlot (key: string | Buffer): number
}
