import { randomBytes, randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { MemoryStore } from '../servers/stores/memory-store.js'

/** A full GC, made callable at run time (the bench process is not started with --expose-gc). */
function gcFunction (): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/**
 * Heap bytes the memory strategy's session store holds per 1,000 sessions of
 * the shape a login creates, measured in this process between two full GCs.
 * An instance's RSS moves by megabytes for reasons of its own (JIT, heap
 * growth), so a few hundred sessions cannot be read from outside; this can.
 */
export async function memoryStoreBytesPer1000 (sessions = 10_000): Promise<number> {
  const gc = gcFunction()
  const store = new MemoryStore({ sweepMs: 3_600_000 })
  const keys = Array.from({ length: sessions }, () => randomUUID())
  const maxAge = 86_400_000
  gc(); gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < sessions; i++) {
    await store.set(keys[i]!, {
      uid: i + 1, username: `user${i + 1}`, role: 'user', lang: 'en',
      csrf: randomBytes(24).toString('base64url'), _expire: Date.now() + maxAge, _maxAge: maxAge,
    }, maxAge)
  }
  gc(); gc()
  const after = process.memoryUsage().heapUsed
  await store.close()
  // Keep the store alive until after the second reading.
  if (store.size !== sessions) throw new Error('memory store lost sessions while measuring')
  return Math.round(((after - before) / sessions) * 1000)
}
