/**
 * `sessionscale <command> [flags]`: the one entry point. Each command lives in
 * its own module and exports `run(argv)`; only entry points read argv and env.
 */
interface Command {
  summary: string
  load: () => Promise<{ run: (argv: string[]) => Promise<number | void> }>
}

const commands: Record<string, Command> = {
  bench: { summary: 'run the benchmark matrix and write reports', load: () => import('./bench-main.js') },
  failover: { summary: 'kill, drain or restart a component under load and watch what is lost', load: () => import('./failover-main.js') },
  compare: { summary: 'compare two report.json files run by run', load: () => import('./compare-main.js') },
  up: { summary: 'start redis, instances and the balancer and keep them running until Ctrl-C', load: () => import('./up-main.js') },
  server: { summary: 'start one Koa instance (one strategy)', load: () => import('../servers/main.js') },
  seed: { summary: 'create or refill the users database', load: () => import('../servers/seed-main.js') },
  balancer: { summary: 'start the sticky-session balancer', load: () => import('../balancer/main.js') },
}

function usage (): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length))
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  return `Usage: sessionscale <command> [flags]\n\nCommands:\n${lines.join('\n')}\n\nRun "sessionscale <command> --help" for the flags of a command.\n`
}

const [name, ...rest] = process.argv.slice(2)
if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage())
  process.exitCode = name === undefined ? 2 : 0
} else {
  const command = commands[name]
  if (command === undefined) {
    process.stderr.write(`sessionscale: unknown command "${name}"\n\n${usage()}`)
    process.exitCode = 2
  } else {
    try {
      const mod = await command.load()
      const code = await mod.run(rest)
      if (typeof code === 'number') process.exitCode = code
    } catch (err) {
      // Usage errors carry exitCode 2 and a message meant for the user; anything else is a bug.
      const e = err as { exitCode?: number, message?: string }
      if (e.exitCode === 2) {
        process.stderr.write(`sessionscale ${name}: ${e.message ?? String(err)}\nRun "sessionscale ${name} --help" for its flags.\n`)
        process.exitCode = 2
      } else {
        process.stderr.write(`sessionscale ${name}: ${(err as Error)?.stack ?? String(err)}\n`)
        process.exitCode = 1
      }
    }
  }
}
