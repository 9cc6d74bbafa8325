import net from 'node:net'

/**
 * Ask the kernel for a free loopback port. Only for programs that cannot bind
 * port 0 themselves (redis-server treats `--port 0` as "no TCP"); our own
 * servers always bind 0 and report what they got.
 */
export function freePort (host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const addr = srv.address()
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port)
        else reject(new Error('could not read the port of a probe socket'))
      })
    })
  })
}
