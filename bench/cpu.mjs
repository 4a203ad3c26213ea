// CPU placement and accounting. The gateway (workerd) gets one core; the load generator,
// the origin and this harness share the other. On a machine other work also runs on,
// all of them get a higher scheduling priority (nice) and every round records how much
// CPU went to processes that are not ours, so a disturbed round can be recognised.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";

/** USER_HZ, the unit of the /proc CPU times. */
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const tickMicros = (ticks) => (ticks * 1_000_000) / CLOCK_TICKS;

/** Niceness for every process of the benchmark (root only; 0 leaves priorities alone). */
export const NICE = Number(process.env.BENCH_NICE ?? (process.getuid?.() === 0 ? "-10" : "0"));

/** argv that runs `args` pinned to `cpu` at the benchmark's priority. */
export function pinned(cpu, args) {
  const prefix = ["taskset", "-c", String(cpu)];
  return NICE === 0 ? [...prefix, ...args] : [...prefix, "nice", "-n", String(NICE), ...args];
}

/**
 * Give this process and everything it starts the benchmark's priority; returns how to
 * undo it. With autogroup scheduling (Linux's default for desktop and VM kernels) nice
 * only ranks processes within one session's group, so the group's own nice is set too.
 */
export function raisePriority() {
  if (NICE === 0) return () => undefined;
  setPriority(NICE);
  const group = "/proc/self/autogroup";
  if (!existsSync(group)) return () => undefined;
  const before = /nice (-?\d+)/.exec(readFileSync(group, "utf8"))?.[1] ?? "0";
  try {
    writeFileSync(group, String(NICE));
  } catch {
    return () => undefined; // not permitted: plain nice still orders our own processes
  }
  return () => writeFileSync(group, before);
}

function statFields(path) {
  const stat = readFileSync(path, "utf8");
  // Fields after the ")" closing the command name: utime is index 11, stime 12,
  // cutime 13, cstime 14 (fields 14-17 of proc(5)).
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
}

/** CPU time (user + system, all threads) of a running process, in microseconds. */
export function cpuMicros(pid) {
  try {
    const f = statFields(`/proc/${pid}/stat`);
    return tickMicros((f[11] ?? 0) + (f[12] ?? 0));
  } catch {
    return 0; // gone: it contributes nothing from now on
  }
}

/** This process's CPU time plus that of the children it has reaped (each wrk run). */
export function selfAndChildrenMicros() {
  const f = statFields("/proc/self/stat");
  return tickMicros((f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0));
}

/** Busy CPU time of the whole machine (all cores, steal included), in microseconds. */
export function machineBusyMicros() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).map(Number);
  return tickMicros(user + nice + system + irq + softirq + steal);
}

/**
 * Time the threads of `pid` spent runnable but waiting for a core (schedstat), in
 * microseconds: CPU the process wanted and another process had.
 */
export function waitMicros(pid) {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[1] ?? 0);
    }
    return ns / 1000;
  } catch {
    return 0;
  }
}

/**
 * CPU time (user + system) of each live thread of `pid`, in microseconds, by thread id,
 * with the thread's name (`comm`, e.g. "workerd" or V8's profiler thread "v8:ProfEvntProc").
 * A thread that has exited is no longer listed (its time stays in the process's total).
 * @returns {Map<string, { name: string, us: number }>}
 */
export function threadCpuMicros(pid) {
  const threads = new Map();
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
      threads.set(tid, { name, us: tickMicros((f[11] ?? 0) + (f[12] ?? 0)) });
    } catch {
      // exited between the listing and the read
    }
  }
  return threads;
}
