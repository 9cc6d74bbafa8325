import type { PolicyName } from '../defaults.js'
import type { Policy } from './policy.js'
import { sticky } from './sticky.js'
import { roundRobin } from './round-robin.js'
import { leastConn } from './least-conn.js'
import { consistentHash } from './hash.js'

export function createPolicy (name: PolicyName, opts: { cookieName: string, hashCookie: string, hashVnodes: number, hashLoadFactor: number }): Policy {
  switch (name) {
    case 'sticky': return sticky({ cookieName: opts.cookieName })
    case 'round-robin': return roundRobin()
    case 'least-conn': return leastConn()
    case 'hash': return consistentHash({ cookieName: opts.hashCookie, vnodes: opts.hashVnodes, loadFactor: opts.hashLoadFactor })
  }
}
