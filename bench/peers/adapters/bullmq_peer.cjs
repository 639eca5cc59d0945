// BullMQ adapter: the protocol of bench/peers/adapters/protocol.py, in Node.
//   node bullmq_peer.cjs drive    FLUSHDB our db, start one worker process, measure, print JSON
//   node bullmq_peer.cjs worker   the worker: concurrency 10, the job body records job.data.i
// Modules resolve through NODE_PATH (bench/.peers/bullmq/node_modules), set by the harness.
'use strict';
const fs = require('fs');
const { spawn } = require('child_process');
const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');

const URL = process.env.BENCH_PEER_REDIS_URL || 'redis://127.0.0.1:6379/15';
const N = parseInt(process.env.BENCH_PEER_N || '10000', 10);
const DONE_KEY = 'bench:peer:done';
const QUEUE = 'bench';
const CONCURRENCY = 10;
const TICK = 100; // USER_HZ on Linux

function connect() {
  return new IORedis(URL, { maxRetriesPerRequest: null });
}

function runWorker() {
  const done = connect();
  const seen = [new Set(), new Set()];
  let execs = 0;
  const worker = new Worker(
    QUEUE,
    async (job) => {
      execs += 1;
      const i = job.data.i;
      if (i < 0) {
        await done.rpush(DONE_KEY, JSON.stringify({ phase: 'warm' }));
        return;
      }
      const phase = seen[Math.min(Math.floor(i / N), 1)];
      phase.add(i);
      if (phase.size === N) {
        await done.rpush(DONE_KEY, JSON.stringify({ phase: Math.floor(i / N), execs }));
      }
    },
    { connection: connect(), concurrency: CONCURRENCY },
  );
  const stop = async () => {
    await worker.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
}

function tree(pid) {
  const parents = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let raw;
    try { raw = fs.readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    const ppid = parseInt(raw.slice(raw.lastIndexOf(')') + 2).split(' ')[1], 10);
    if (!parents.has(ppid)) parents.set(ppid, []);
    parents.get(ppid).push(parseInt(name, 10));
  }
  const out = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop();
    out.push(p);
    todo.push(...(parents.get(p) || []));
  }
  return out;
}

function treeCpu(pid) {
  let total = 0;
  for (const p of tree(pid)) {
    try {
      const raw = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      total += (parseInt(f[11], 10) + parseInt(f[12], 10)) / TICK;
    } catch { /* exited */ }
  }
  return total;
}

function signalTree(pid, sig) {
  for (const p of tree(pid)) {
    try { process.kill(p, sig); } catch { /* exited */ }
  }
}

async function redisCounters(r) {
  const field = (text, name) => parseFloat(text.match(new RegExp(`${name}:([0-9.]+)`))[1]);
  const cpu = await r.info('cpu');
  const stats = await r.info('stats');
  return [field(cpu, 'used_cpu_user') + field(cpu, 'used_cpu_sys'),
    field(stats, 'total_commands_processed')];
}

async function awaitDone(r, phase, timeout) {
  for (;;) {
    const got = await r.blpop(DONE_KEY, timeout);
    if (got === null) throw new Error(`phase ${phase} not done within ${timeout}s`);
    if (JSON.parse(got[1]).phase === phase) return performance.now() / 1000;
  }
}

function selfCpu() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function drive() {
  const r = connect();
  await r.flushdb();
  const queue = new Queue(QUEUE, { connection: connect() });
  const worker = spawn(process.execPath, [__filename, 'worker'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const info = {
    peer: 'bullmq',
    versions: `bullmq ${require('bullmq/package.json').version}, ioredis ${require('ioredis/package.json').version}, node ${process.versions.node}`,
  };
  let out;
  try {
    await queue.add('noop', { i: -1 });
    await awaitDone(r, 'warm', 120);
    const w0 = treeCpu(worker.pid); const p0 = selfCpu(); const [rc0, cmd0] = await redisCounters(r);
    const t0 = performance.now() / 1000;
    for (let i = 0; i < N; i++) await queue.add('noop', { i });
    const t1 = performance.now() / 1000;
    const t2 = await awaitDone(r, 0, 300);
    const w1 = treeCpu(worker.pid); const p1 = selfCpu(); const [rc1, cmd1] = await redisCounters(r);

    signalTree(worker.pid, 'SIGSTOP');
    const s0 = performance.now() / 1000;
    for (let i = N; i < 2 * N; i++) await queue.add('noop', { i });
    const s1 = performance.now() / 1000;
    const w2 = treeCpu(worker.pid); const [rc2] = await redisCounters(r);
    const t3 = performance.now() / 1000;
    signalTree(worker.pid, 'SIGCONT');
    const t4 = await awaitDone(r, 1, 300);
    const w3 = treeCpu(worker.pid); const [rc3] = await redisCounters(r);
    out = {
      ...info, ok: true, n: N,
      enqueue_s: t1 - t0, e2e_s: t2 - t0, e2e_per_s: N / (t2 - t0),
      worker_cpu_e2e_s: w1 - w0, producer_cpu_e2e_s: p1 - p0, redis_cpu_e2e_s: rc1 - rc0,
      redis_cmds_per_job: (cmd1 - cmd0) / N,
      enqueue_solo_s: s1 - s0, drain_s: t4 - t3, drain_per_s: N / (t4 - t3),
      worker_cpu_us_per_job_drain: (w3 - w2) / N * 1e6,
      redis_cpu_us_per_job_drain: (rc3 - rc2) / N * 1e6,
    };
  } catch (err) {
    out = { ...info, ok: false, error: String(err) };
  } finally {
    signalTree(worker.pid, 'SIGCONT');
    worker.kill('SIGTERM');
    await new Promise((resolve) => {
      const timer = setTimeout(() => { worker.kill('SIGKILL'); resolve(); }, 15000);
      worker.on('exit', () => { clearTimeout(timer); resolve(); });
    });
    await queue.close();
    r.disconnect();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

if (process.argv[2] === 'worker') runWorker();
else drive();
