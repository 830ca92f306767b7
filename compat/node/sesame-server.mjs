// Starts the Sesame binary for the SDK suites: free loopback ports, only the environment given (no
// configuration leaks in from the caller's), the log in a file, readiness awaited on both ports.
//
//   const server = await startSesame({ bin, cwd, args: ['serve', '--dev'], env: { DSN: 'memory' }, log });
//   server.publicUrl, server.adminUrl   // http://127.0.0.1:<port>/ (trailing slash, as the base URLs)
//   await server.stop();

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_TIMEOUT = 30_000;

export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function waitReady(child, url, logName) {
  const deadline = Date.now() + READY_TIMEOUT;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`sesame exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${logName}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.cause?.code ?? e.message;
    }
    await sleep(100);
  }
  throw new Error(`sesame was not ready within ${READY_TIMEOUT} ms (${url}: ${last}); see ${logName}`);
}

/**
 * Spawns `bin args…` with `env` plus the listener overrides (127.0.0.1, free ports, base URLs with
 * those ports, as Kratos's `SERVE_*` variables) and waits until both ports answer `/health/ready`.
 */
export async function startSesame({ bin, cwd, args, env, log: logFile }) {
  const publicPort = await freePort();
  let adminPort = await freePort();
  while (adminPort === publicPort) adminPort = await freePort();
  const publicUrl = `http://127.0.0.1:${publicPort}/`;
  const adminUrl = `http://127.0.0.1:${adminPort}/`;

  const log = createWriteStream(logFile);
  await new Promise((resolve) => log.once('open', resolve));
  const child = spawn(bin, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      RUST_BACKTRACE: '1',
      ...env,
      SERVE_PUBLIC_HOST: '127.0.0.1',
      SERVE_PUBLIC_PORT: String(publicPort),
      SERVE_PUBLIC_BASE_URL: publicUrl,
      SERVE_ADMIN_HOST: '127.0.0.1',
      SERVE_ADMIN_PORT: String(adminPort),
      SERVE_ADMIN_BASE_URL: adminUrl,
    },
    stdio: ['ignore', log, log],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const running = () => child.exitCode === null && child.signalCode === null;
  process.once('exit', () => running() && child.kill('SIGKILL'));
  try {
    await waitReady(child, `${publicUrl}health/ready`, logFile);
    await waitReady(child, `${adminUrl}health/ready`, logFile);
  } catch (e) {
    if (running()) child.kill('SIGKILL');
    throw e;
  }
  return {
    publicUrl,
    adminUrl,
    child,
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
      await new Promise((resolve) => log.end(resolve));
    },
  };
}
