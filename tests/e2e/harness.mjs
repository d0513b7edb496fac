// What the browser tests stand on: a vigied in a temporary data directory on
// loopback (the binaries of VIGIE_BUILD, sanitizers included), the vigie CLI,
// vigie-sim, an API client with a session like the page's, and the database
// read directly (sqlite3; or psql with VIGIE_TEST_DB=pg, vigied then on a
// database of its own in the cluster scripts/pg-test-cluster started around
// the test, $VIGIE_TEST_PG). Every process started here is ended by cleanup().
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILD = process.env.VIGIE_BUILD || path.join(ROOT, 'build');

export function binary(name) {
  for (const sub of ['src/daemon', 'src/tools']) {
    const p = path.join(BUILD, sub, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} is not built in ${BUILD}`);
}

// The sanitizers as the other tests have them (no suppression: vigied
// releases the caches of the libraries it draws reports with at exit).
const sanitizerEnv = () => ({
  ...process.env,
  ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'abort_on_error=1:detect_leaks=1',
  UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1',
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(what, fn, timeoutMs = 10000, everyMs = 100) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last && last.message ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

// psql's unaligned output of one statement (ON_ERROR_STOP: a failure throws)
function psql(location, sql) {
  const r = spawnSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', location, '-c', sql],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql: ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

export class Daemon {
  constructor(extra = []) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-e2e-'));
    this.extra = extra;
    this.proc = null;
    this.log = path.join(this.dir, 'vigied.log');
    this.devicesPort = 0;
    this.httpPort = 0;
  }

  // On PostgreSQL: the data directory's database, created at the first start
  // (a restart finds the same one).
  get dbArgs() {
    if (process.env.VIGIE_TEST_DB !== 'pg') return [];
    if (!this.pgUri) {
      const name = 'e2e_' + path.basename(this.dir).replace(/[^A-Za-z0-9]/g, '_').toLowerCase();
      psql(process.env.VIGIE_TEST_PG + '/postgres', 'CREATE DATABASE ' + name);
      this.pgUri = process.env.VIGIE_TEST_PG + '/' + name;
    }
    return ['--db', this.pgUri];
  }

  async start() {
    const skip = fs.existsSync(this.log) ? fs.statSync(this.log).size : 0;
    const db = this.dbArgs;
    const out = fs.openSync(this.log, 'a');
    this.proc = spawn(binary('vigied'), ['--data-dir', this.dir,
      '--devices', `127.0.0.1:${this.devicesPort}`, '--http', `127.0.0.1:${this.httpPort}`, ...db, ...this.extra],
    { stdio: ['ignore', out, out], env: sanitizerEnv() });
    fs.closeSync(out);
    this.exited = new Promise((r) => this.proc.on('exit', (code, sig) => r(code === null ? sig : code)));
    const line = await until('vigied ready', () => {
      if (this.proc.exitCode !== null) throw new Error('vigied exited:\n' + this.logText().slice(-3000));
      return this.logText().slice(skip).split('\n').find((l) => l.includes('msg=ready'));
    }, 60000, 50);
    this.devicesPort = Number(/devices_port=(\d+)/.exec(line)[1]);
    this.httpPort = Number(/http_port=(\d+)/.exec(line)[1]);
    this.base = `http://127.0.0.1:${this.httpPort}`;
    return this;
  }

  // SIGTERM and wait: vigied's exit status (0: everything committed, no
  // sanitizer finding)
  async stop() {
    if (!this.proc) return 0;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc && this.proc.kill('SIGKILL'), 60000);
    const code = await this.exited;
    clearTimeout(t);
    this.proc = null;
    return code;
  }

  logText() {
    return fs.existsSync(this.log) ? fs.readFileSync(this.log, 'utf8') : '';
  }

  get token() {
    return fs.readFileSync(path.join(this.dir, 'admin.token'), 'utf8').trim();
  }

  vigie(args, input) {
    const r = spawnSync(binary('vigie'), [...args, '--http', `127.0.0.1:${this.httpPort}`,
      '--token-file', path.join(this.dir, 'admin.token')], { input, encoding: 'utf8', env: sanitizerEnv() });
    if (r.status !== 0) throw new Error(`vigie ${args.join(' ')}: ${r.stdout} ${r.stderr}`);
    return r.stdout;
  }

  addUser(name, role, password) {
    this.vigie(['user', 'add', name, '--role', role, '--password-stdin'], password + '\n');
  }

  // The administrator token's API
  async admin(method, p, body) {
    const r = await fetch(this.base + p, {
      method,
      headers: { Authorization: 'Bearer ' + this.token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }

  query(sql) {
    if (this.pgUri) {
      const out = psql(this.pgUri, `SELECT coalesce(json_agg(row_to_json(t)), '[]') FROM (${sql}) t`);
      return JSON.parse(out);
    }
    const r = spawnSync('sqlite3', ['-readonly', '-json', path.join(this.dir, 'vigie.db'), sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('sqlite3: ' + r.stderr);
    return r.stdout.trim() ? JSON.parse(r.stdout) : [];
  }

  // vigie-sim running a scenario against this vigied (its measures declared,
  // its units' certificates issued)
  simulate(scenario, prefix) {
    const out = path.join(this.dir, 'sim-' + prefix);
    fs.mkdirSync(out, { recursive: true });
    const log = fs.openSync(path.join(out, 'sim.log'), 'a');
    const proc = spawn(binary('vigie-sim'), ['run', '--scenario', scenario,
      '--server', `127.0.0.1:${this.devicesPort}`, '--pki', path.join(this.dir, 'pki'),
      '--prefix', prefix, '--provision', '--http', `127.0.0.1:${this.httpPort}`,
      '--token-file', path.join(this.dir, 'admin.token'), '--out', out,
      '--geo', path.join(ROOT, 'data', 'geo'), '--drain-timeout', '5'],
    { stdio: ['ignore', log, log], env: sanitizerEnv() });
    fs.closeSync(log);
    proc.exited = new Promise((r) => proc.on('exit', (c, s) => r(c === null ? s : c)));
    return proc;
  }

  cleanup(keep) {
    if (this.proc) this.proc.kill('SIGKILL');
    if (!keep && !process.env.VIGIE_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// A user's session through the API, as the page holds one.
export class Session {
  constructor(daemon) {
    this.d = daemon;
  }

  async login(name, password) {
    const r = await fetch(this.d.base + '/api/v1/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, password }),
    });
    if (r.status !== 200) throw new Error(`login ${name}: ${r.status} ${await r.text()}`);
    this.cookie = r.headers.get('set-cookie').split(';')[0];
    this.csrf = (await r.json()).csrf_token;
    return this;
  }

  async call(method, p, body) {
    const r = await fetch(this.d.base + p, {
      method,
      headers: { Cookie: this.cookie, 'X-CSRF-Token': this.csrf, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }
}
