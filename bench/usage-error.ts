/** A bad flag or value on the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE'
  readonly exitCode = 2
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}
