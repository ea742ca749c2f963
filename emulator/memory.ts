// The container's memory limit, enforced as Cloud Run enforces it: the limit is
// read from `resources.limits.memory` (a Kubernetes quantity, 512Mi when unset,
// Cloud Run's default for jobs), and an attempt whose processes hold more
// resident memory than that is killed with SIGKILL, as the kernel's OOM killer does.
import fs from 'node:fs';

/** 512Mi, Cloud Run's default for a job's container. */
export const DEFAULT_MEMORY_LIMIT = 512 * 2 ** 20;

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Bytes in a Kubernetes quantity ('512Mi', '1Gi', '2G', '1.5Gi'), or undefined when it is not one. */
export function parseMemory(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([kMGTPE]i?)?$/.exec(quantity.trim());
  if (!match) return undefined;
  const unit = UNITS[match[2] ?? ''];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

export const mebibytes = (bytes: number): number => Math.round(bytes / 2 ** 20);

function read(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined; // The process is gone, or this is not Linux.
  }
}

/**
 * The resident memory of a process and all its descendants, from /proc. Children are
 * found through every thread's `children` list, so processes forked from any thread count.
 */
export function treeResidentBytes(pid: number): number {
  let total = 0;
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(read(`/proc/${next}/status`) ?? '');
    if (rss) total += Number(rss[1]) * 1024;
    let threads: string[] = [];
    try {
      threads = fs.readdirSync(`/proc/${next}/task`);
    } catch {
      continue;
    }
    for (const thread of threads) {
      for (const child of (read(`/proc/${next}/task/${thread}/children`) ?? '').split(' ')) {
        if (child) pending.push(Number(child));
      }
    }
  }
  return total;
}

/** How often the attempt's memory is read: often enough to stop a runaway, cheap enough for every test. */
const SAMPLE_MS = 100;

/** Calls `exceeded` once, with the bytes in use, the first time the tree of `pid` holds more than `limit`. */
export function watchMemory(pid: number, limit: number, exceeded: (usedBytes: number) => void): () => void {
  const timer = setInterval(() => {
    const used = treeResidentBytes(pid);
    if (used <= limit) return;
    clearInterval(timer);
    exceeded(used);
  }, SAMPLE_MS);
  timer.unref();
  return () => clearInterval(timer);
}
