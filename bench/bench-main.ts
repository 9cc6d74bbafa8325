import { UsageError } from './usage-error.js'

export async function run (_argv: string[]): Promise<number> {
  throw new UsageError('not implemented yet')
}
