/**
 * `berth get NAME` as a whole process, against `node -e 0` (the floor any Node CLI pays)
 * and get-port's one-liner, interleaved in the same run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { fmt, mdTable, median, timeProcess, type BenchSection } from './stats.js';

const RUNS = 40;
const PROJECT_CONFIG = `project: shop
services:
  web: { prefer: 3000 }
  api: { category: api }
  postgres: {}
  worker: { range: 7100-7199 }
`;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'berth.js');

export default async function startupBench(): Promise<BenchSection> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-startup-bench-'));
  try {
    const env = { ...process.env, BERTH_DB: path.join(dir, 'b.db'), BERTH_SCOPE: 'bench' };
    execFileSync(process.execPath, [BIN, 'allocate', 'web', '--range', '30500-30599'], { env, cwd: dir });
    // The usual case: a project with a berth.yaml, which every command reads.
    const project = path.join(dir, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'berth.yaml'), PROJECT_CONFIG);
    const projectEnv: NodeJS.ProcessEnv = { ...process.env, BERTH_DB: path.join(dir, 'p.db') };
    delete projectEnv.BERTH_SCOPE; // the scope comes from berth.yaml's project:
    delete projectEnv.BERTH_CONFIG;
    execFileSync(process.execPath, [BIN, 'allocate'], { env: projectEnv, cwd: project });
    // A scope derived from the directory (no project:): start-up also asks the store whose name it is.
    const derived = path.join(dir, 'derived');
    fs.mkdirSync(derived);
    fs.writeFileSync(path.join(derived, 'berth.yaml'), PROJECT_CONFIG.replace(/^project: .*\n/, ''));
    execFileSync(process.execPath, [BIN, 'allocate'], { env: projectEnv, cwd: derived });
    const getPortScript = "import('get-port').then(m => m.default()).then(p => console.log(p))";
    const cmds: Record<string, { args: string[]; env: NodeJS.ProcessEnv; cwd?: string }> = {
      'node -e 0': { args: ['-e', '0'], env },
      'berth get web': { args: [BIN, 'get', 'web'], env },
      'berth get web (in a project: berth.yaml with 4 services)': { args: [BIN, 'get', 'web'], env: projectEnv, cwd: project },
      "berth get web (the same berth.yaml without project:: the directory's own scope)": { args: [BIN, 'get', 'web'], env: projectEnv, cwd: derived },
      "node -e \"import('get-port')...\" (no registry)": { args: ['--input-type=module', '-e', getPortScript], env },
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
    for (let i = 0; i < RUNS + 3; i++) {
      for (const [label, { args, env: runEnv, cwd }] of Object.entries(cmds)) {
        const ms = timeProcess(process.execPath, args, runEnv, cwd);
        if (i >= 3) times[label]!.push(ms); // the first runs warm the page cache
      }
    }
    const floor = median(times['node -e 0']!);
    const rows = Object.entries(times).map(([label, t]) => [`\`${label}\``, fmt(median(t), 1), `${fmt(median(t) / floor)}×`]);
    const markdown = [
      `Whole-process wall time, median of ${RUNS} interleaved runs (get-port's one-liner runs from the package directory, so it resolves).`,
      '',
      mdTable(['command', 'median ms', 'ratio to `node -e 0`'], rows),
    ].join('\n');
    return { title: 'Start-up: `berth get NAME` as a whole process', markdown };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await startupBench()).markdown);
