/**
 * One contender in the race benchmark: waits until START_AT (epoch ms), asks its tool for
 * a port in RANGE, prints it. Usage: node race-worker.js TOOL START_AT RANGE DB NAME
 */
import { parseRange } from '../src/config/ports.js';
import { openBerth } from '../src/index.js';

const [tool, startAt, rangeText, db, name] = process.argv.slice(2);
const range = parseRange(rangeText!);

async function ask(): Promise<number> {
  switch (tool) {
    case 'get-port': {
      const { default: getPort, portNumbers } = await import('get-port');
      return getPort({ port: portNumbers(range.start, range.end) });
    }
    case 'portfinder': {
      const portfinder = (await import('portfinder')).default;
      return portfinder.getPortPromise({ port: range.start, stopPort: range.end });
    }
    case 'detect-port': {
      const { detect } = await import('detect-port');
      return detect(range.start);
    }
    case 'berth': {
      const berth = await openBerth({ db, scope: 'race', env: {} });
      try {
        const [lease] = await berth.allocate([{ name: name!, range }]);
        return lease!.port;
      } finally {
        await berth.close();
      }
    }
    default:
      throw new Error(`unknown tool ${tool}`);
  }
}

// Load everything first, then start together: the race is the ask, not the start-up.
await import('get-port');
await import('portfinder');
await import('detect-port');
const wait = Number(startAt) - Date.now();
if (wait > 0) await new Promise((r) => setTimeout(r, wait));
process.stdout.write(`${await ask()}\n`);
