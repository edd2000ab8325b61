"""The per-task cost parts of the benchmark (run.py calls them; run.sh builds
the programs): the client's own cost per task against the null worker, pinned
to cores; the system calls per task of each client; event delivery against
the floor reader. Each part writes OUT/<part>.json; render() turns those into
the "Per-task cost" section of results.md. Nothing here asserts on speed."""
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

N_NULL = 20_000  # timed tasks per run (after N/10 warm-up)
ROUNDS_NULL = 10
N_STRACE = (1_000, 5_000)  # two runs: the difference is the per-task cost
N_EVENTS = 100_000
ROUNDS_EVENTS = 10
FLOOR = "floor client"
FLOOR_SOCKET = "floor client (socket stdin)"
FLOOR_READER = "floor reader"
FLOOR_GULPS = "floor reader, 200 us gulps"


def clients(root, out):
    """The clients of the per-task parts: name -> argv before MODE N."""
    env_dir = f"{root}/target/tmp/python-env"
    py = f"{env_dir}/bin/python"
    return {
        FLOOR: [f"{out}/floor", py],
        FLOOR_SOCKET: [f"{out}/floor", "-s", py],
        "libappose (Rust API)": [f"{root}/target/release/examples/bench_client", env_dir],
        "libappose (C ABI)": [f"{out}/client", env_dir],
        "appose-python 0.12.0": [py, f"{root}/tests/bench/python_client.py", env_dir],
        "appose-java 0.9.0": ["java", "-cp", f"{out}/java-deps/*:{out}/java", "JavaClient", env_dir],
    }


def run_json(cmd, timeout=600):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout} s"}
    if p.returncode != 0:
        # The client's own last words, and the whole tail for the record.
        lines = [l for l in p.stderr.strip().splitlines() if l.strip()] or [f"exit {p.returncode}"]
        mine = [l for l in lines if "Error" in l or "Exception" in l or "panicked" in l] or lines
        return {"error": mine[-1], "exit": p.returncode, "stderr_tail": p.stderr[-2000:]}
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": f"no JSON in output: {p.stdout[-200:]!r}"}


def loadavg():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def median(v):
    return statistics.median(v) if v else None


# --- 1. Round trip against the null worker, pinned --------------------------

MODES_NULL = {
    # mode: (client prefix, worker prefix)
    "one core": (["taskset", "-c", "0"], []),
    "two cores": (["taskset", "-c", "0"], [shutil.which("taskset") or "/usr/bin/taskset", "-c", "1"]),
}


def null_roundtrip(root, out):
    """~2.5 min: 10 rounds x 2 modes x 6 clients x 22,000 tasks."""
    worker = f"{out}/null_worker"
    cl = clients(root, out)
    runs = {}  # (mode, client) -> [result per round]
    load = [loadavg()]
    for r in range(ROUNDS_NULL):
        for mode, (pin, wpin) in MODES_NULL.items():
            for name, argv in cl.items():
                res = run_json(pin + argv + ["roundtrip", str(N_NULL)] + wpin + [worker])
                log(f"null r{r} {mode:9} {name:28} {res}")
                runs.setdefault(f"{mode}|{name}", []).append(res)
    load.append(loadavg())
    json.dump({"when": time.strftime("%Y-%m-%d %H:%M"), "load": load, "n": N_NULL, "runs": runs},
              open(f"{out}/null.json", "w"), indent=1)


# --- 2. System calls per task -------------------------------------------------

CLONE_RET = re.compile(r"^(clone3?|vfork|fork)\(.*\)\s+=\s+(\d+)")
NAME = re.compile(r"^([a-z_0-9]+)\(")
THREAD_NAME = re.compile(r'^prctl\(PR_SET_NAME, "([^"]*)"')


def call_name(line):
    """The call's name; futex split into wait and wake."""
    m = NAME.match(line)
    if not m:
        return None  # a signal, an exit, a "resumed" tail
    name = m.group(1)
    if name == "futex":
        name = "futex wake" if "FUTEX_WAKE" in line else "futex wait" if "FUTEX_WAIT" in line else name
    return name


def client_syscalls(prefix):
    """Counts the system calls, by name and by thread name, of the traced
    client process: its first thread and every thread it (or they) made with
    CLONE_THREAD. Child processes (the worker, and a forked child before its
    exec) are left out. `prefix` is the strace -ff output prefix."""
    files = {int(f.rsplit(".", 1)[1]): f for f in glob.glob(prefix + ".*")}
    kids_of, children = {}, set()
    for pid, f in files.items():
        kids = []
        for line in open(f, errors="replace"):
            m = CLONE_RET.match(line)
            if m:
                kid = int(m.group(2))
                children.add(kid)
                kids.append((kid, "CLONE_THREAD" in line))
        kids_of[pid] = kids
    roots = [p for p in files if p not in children]
    if len(roots) != 1:
        raise RuntimeError(f"expected one traced root process, found {roots}")
    mine, todo = set(), [roots[0]]
    while todo:
        pid = todo.pop()
        mine.add(pid)
        todo.extend(k for k, is_thread in kids_of.get(pid, []) if is_thread and k in files)
    counts, by_thread = {}, {}
    for pid in mine:
        thread, n = ("main" if pid == roots[0] else "other threads"), 0
        for line in open(files[pid], errors="replace"):
            name = call_name(line)
            if name:
                counts[name] = counts.get(name, 0) + 1
                n += 1
            m = THREAD_NAME.match(line)
            if m and pid != roots[0]:
                thread = m.group(1)
        by_thread[thread] = by_thread.get(thread, 0) + n
    return counts, by_thread


def strace_counts(argv, n, worker):
    # Pinned as in the two-core mode (strace with the client on core 0, the
    # worker on core 1): unpinned, how often the worker's two lines arrive
    # in one read varies from run to run.
    pin, wpin = MODES_NULL["two cores"]
    with tempfile.TemporaryDirectory(prefix="appose-strace-") as d:
        cmd = pin + ["strace", "-f", "-ff", "-o", f"{d}/t"] + argv + ["roundtrip", str(n)] + wpin + [worker]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
        if p.returncode != 0:
            raise RuntimeError((p.stderr.strip().splitlines() or ["failed"])[-1])
        return client_syscalls(f"{d}/t")


def difference(a, b, tasks):
    per = {k: (b.get(k, 0) - a.get(k, 0)) / tasks for k in set(a) | set(b)}
    return {k: v for k, v in per.items() if abs(v) >= 0.005}


# The calls perf stat counts by name (any others are in the total only).
PERF_CALLS = ["read", "write", "sendto", "recvfrom", "sendmsg", "recvmsg", "poll", "ppoll", "epoll_wait",
              "futex", "rt_sigprocmask", "getrandom", "sched_yield", "newfstatat", "ioctl", "gettid",
              "clock_nanosleep", "nanosleep", "mprotect", "madvise"]


def perf_events():
    names = PERF_CALLS
    try:
        have = set(os.listdir("/sys/kernel/tracing/events/syscalls"))
        names = [c for c in names if f"sys_enter_{c}" in have]
    except OSError:
        pass
    return ",".join(["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{c}" for c in names])


def perf_counts(argv, n, worker, mode):
    """System calls of one round-trip run, by name ("total": all), counted
    by perf stat over the client and the worker together, minus the calls
    the null worker counted itself (it makes only read and write)."""
    pin, wpin = MODES_NULL[mode]
    with tempfile.TemporaryDirectory(prefix="appose-perf-") as d:
        env = dict(os.environ, NULL_WORKER_COUNTS=f"{d}/worker")
        cmd = ["perf", "stat", "-x,", "-o", f"{d}/stat", "-e", perf_events(), "--"] + pin + argv \
            + ["roundtrip", str(n)] + wpin + [worker]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, env=env)
        if p.returncode != 0:
            raise RuntimeError((p.stderr.strip().splitlines() or ["failed"])[-1])
        counts = {}
        for line in open(f"{d}/stat"):
            f = line.strip().split(",")
            if len(f) < 3 or not f[0].isdigit():
                continue
            name = "total" if f[2] == "raw_syscalls:sys_enter" else f[2].split("sys_enter_")[-1]
            counts[name] = int(f[0])
        theirs = dict(l.split() for l in open(f"{d}/worker"))
    for call in ("read", "write"):
        counts[call] = counts.get(call, 0) - int(theirs[call])
        counts["total"] = counts.get("total", 0) - int(theirs[call])
    return counts


N_PERF = (2_000, 10_000)


def syscalls(root, out):
    """~2 min: each client twice under strace (1,100 and 5,500 tasks), then
    twice per pinned mode under perf stat (2,200 and 11,000 tasks)."""
    worker = f"{out}/null_worker"
    res = {}
    for name, argv in clients(root, out).items():
        if shutil.which("strace") is None:
            res[name] = {"error": "strace is not installed"}
            continue
        try:
            (c1, t1), (c2, t2) = (strace_counts(argv, n, worker) for n in N_STRACE)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            res[name] = {"error": str(e)}
            log(f"syscalls {name:28} {e}")
            continue
        tasks = (N_STRACE[1] + N_STRACE[1] // 10) - (N_STRACE[0] + N_STRACE[0] // 10)
        per = difference(c1, c2, tasks)
        res[name] = {"per_task": per, "by_thread": difference(t1, t2, tasks)}
        log(f"syscalls {name:28} {sum(per.values()):.2f}/task {sorted(per.items(), key=lambda kv: -kv[1])[:6]}")
    perf = {}
    tasks = (N_PERF[1] + N_PERF[1] // 10) - (N_PERF[0] + N_PERF[0] // 10)
    for mode in MODES_NULL:
        for name, argv in clients(root, out).items():
            if shutil.which("perf") is None:
                perf.setdefault(mode, {})[name] = {"error": "perf is not installed"}
                continue
            try:
                c1, c2 = (perf_counts(argv, n, worker, mode) for n in N_PERF)
            except (RuntimeError, OSError, KeyError, ValueError, subprocess.TimeoutExpired) as e:
                perf.setdefault(mode, {})[name] = {"error": str(e)}
                log(f"perf stat {mode:9} {name:28} {e}")
                continue
            per = difference(c1, c2, tasks)
            perf.setdefault(mode, {})[name] = {"per_task": per}
            log(f"perf stat {mode:9} {name:28} {per}")
    json.dump({"when": time.strftime("%Y-%m-%d %H:%M"), "n": N_STRACE, "clients": res,
               "perf_n": N_PERF, "perf": perf},
              open(f"{out}/syscalls.json", "w"), indent=1)


# --- 3. Events against the floor reader ----------------------------------------

def events(root, out):
    """~2 min: 10 rounds x (idle, loaded) x 6 clients x 100,000 UPDATEs."""
    cl = clients(root, out)
    order = [FLOOR_READER, FLOOR_GULPS, "libappose (Rust API)", "libappose (C ABI)", "appose-python 0.12.0",
             "appose-java 0.9.0"]
    argv = {name: cl[name] for name in order if name in cl}
    argv[FLOOR_READER] = cl[FLOOR]
    # The library's reader pauses 200 us before each read of a stream of
    # output (COALESCE in src/service/reader.rs); this floor reader does too.
    argv[FLOOR_GULPS] = [cl[FLOOR][0], "-g", "200"] + cl[FLOOR][1:]
    runs = {}
    load = [loadavg()]
    for r in range(ROUNDS_EVENTS):
        for cond in ("idle", "loaded"):
            hog = None
            if cond == "loaded":
                # A CPU-bound competitor on core 1; the clients are not pinned.
                hog = subprocess.Popen(["taskset", "-c", "1", "sh", "-c", "while :; do :; done"])
                time.sleep(0.2)
            try:
                for name in order:
                    res = run_json(argv[name] + ["events", str(N_EVENTS)])
                    log(f"events r{r} {cond:6} {name:28} {res}")
                    runs.setdefault(f"{cond}|{name}", []).append(res)
            finally:
                if hog is not None:
                    hog.kill()
                    hog.wait()
    load.append(loadavg())
    json.dump({"when": time.strftime("%Y-%m-%d %H:%M"), "load": load, "n": N_EVENTS, "runs": runs},
              open(f"{out}/events.json", "w"), indent=1)


# --- The section of results.md ---------------------------------------------------

# The columns of the system call table, in this order, then the other calls
# seen at 0.05 per task or more.
ALWAYS_SHOWN = ["write", "sendto", "read", "poll", "futex wait", "futex wake", "rt_sigprocmask", "getrandom"]


def fmt(v, f="{:.1f}"):
    return "n/a" if v is None else f.format(v)


def paired_ratio(runs, name, base, key):
    """The median over rounds of name's figure / base's figure in that round."""
    ratios = [a[key] / b[key] for a, b in zip(runs.get(name, []), runs.get(base, []))
              if key in a and key in b and b[key]]
    return median(ratios)


def render(out):
    parts = []
    try:
        null = json.load(open(f"{out}/null.json"))
    except (OSError, ValueError):
        null = None
    try:
        sc = json.load(open(f"{out}/syscalls.json"))
    except (OSError, ValueError):
        sc = None
    try:
        ev = json.load(open(f"{out}/events.json"))
    except (OSError, ValueError):
        ev = None
    if null or sc:
        parts.append("### Per-task cost: the client alone, against the null worker\n")
    perf = (sc or {}).get("perf", {})

    def perf_per_task(mode, name):
        return perf.get(mode, {}).get(name, {}).get("per_task")

    if null:
        runs = null["runs"]
        names = list(dict.fromkeys(k.split("|", 1)[1] for k in runs))
        parts.append(
            f"Null worker (`tests/bench/null_worker.c`, answers LAUNCH and COMPLETION at once, one write per "
            f"line); {null['n']:,} sequential tasks after {null['n'] // 10:,} warm-up; median of "
            f"{len(next(iter(runs.values())))} alternating rounds ({null['when']}, load average "
            f"{null['load'][0]} before, {null['load'][1]} after). One core: `taskset -c 0` for client and "
            "worker; two cores: client on core 0, worker on core 1. us/task: the median task's wall time; "
            "CPU: the client process's user + system time over the timed tasks / tasks (all its threads, "
            "not the worker). Ratios: the median over rounds of the client's figure / the floor client's "
            "in the same round. Syscalls: the client's system calls per task, counted by perf stat (next "
            "table).\n")
        head = ["us/task", "p99", "vs floor", "CPU us/task", "CPU vs floor", "syscalls"]
        parts.append("| client | " + " | ".join(f"{m}: {h}" if i == 0 else h for m in MODES_NULL
                                                for i, h in enumerate(head)) + " |")
        parts.append("| --- |" + " --- |" * (len(head) * len(MODES_NULL)))
        for n in names:
            cells = []
            for mode in MODES_NULL:
                rs = [r for r in runs.get(f"{mode}|{n}", []) if "median_us" in r]
                cells += [fmt(median([r["median_us"] for r in rs])), fmt(median([r["p99_us"] for r in rs])),
                          fmt(paired_ratio(runs, f"{mode}|{n}", f"{mode}|{FLOOR}", "median_us"), "{:.2f}x"),
                          fmt(median([r["cpu_us"] for r in rs if "cpu_us" in r])),
                          fmt(paired_ratio(runs, f"{mode}|{n}", f"{mode}|{FLOOR}", "cpu_us"), "{:.2f}x")]
                errs = [r["error"] for r in runs.get(f"{mode}|{n}", []) if "error" in r]
                if errs:
                    cells[-1] += f" ({len(errs)} failed: {errs[-1][:60]})"
                p = perf_per_task(mode, n)
                cells.append(fmt(p.get("total") if p else None, "{:.2f}"))
            parts.append(f"| {n} | " + " | ".join(cells) + " |")
        parts.append("")
    if perf:
        n1, n2 = sc["perf_n"]
        names = list(dict.fromkeys(n for m in perf.values() for n in m))
        parts.append(
            "System calls per task by name, at full speed: `perf stat` counts of the system call "
            "tracepoints over client and worker together, in each pinned mode, minus the read and write "
            "calls the null worker counted itself (it makes no others per task); per task = the difference "
            f"between a run of {n1:,} and one of {n2:,} tasks (each after its N/10 warm-up) / the "
            f"difference in tasks ({sc['when']}). Named: {', '.join(PERF_CALLS)}; the rest is \"other\". "
            "Calls under 0.05 per task are left out.\n")
        parts.append("| client | " + " | ".join(perf) + " |")
        parts.append("| --- |" + " --- |" * len(perf))
        for n in names:
            cells = []
            for mode in perf:
                c = perf[mode].get(n, {})
                p = c.get("per_task")
                if not p:
                    cells.append(c.get("error", "n/a"))
                    continue
                named = {k: v for k, v in p.items() if k != "total"}
                named["other"] = p.get("total", 0) - sum(named.values())
                cells.append(f"{p.get('total', 0):.2f}: " + ", ".join(
                    f"{k} {v:.2f}" for k, v in sorted(named.items(), key=lambda kv: -kv[1]) if v >= 0.05))
            parts.append(f"| {n} | " + " | ".join(cells) + " |")
        parts.append("")
    if sc:
        cl = sc["clients"]
        ok = {n: c["per_task"] for n, c in cl.items() if "per_task" in c}
        seen = {k for p in ok.values() for k, v in p.items() if v >= 0.05}
        top = [k for k in ALWAYS_SHOWN if k in seen or k in ("rt_sigprocmask", "getrandom")]
        top += sorted(seen - set(top), key=lambda k: -max(p.get(k, 0) for p in ok.values()))
        n1, n2 = sc["n"]
        parts.append(
            f"Every system call per task, by name and by thread, of the client process only (its threads; "
            f"the worker and any child process left out): `strace -f -ff` of a run of {n1:,} and of {n2:,} "
            f"tasks (each after its N/10 warm-up) against the null worker, pinned as in the two-core mode "
            f"(strace and the client on core 0, the worker on core 1); per task = the difference / the "
            f"difference in tasks ({sc['when']}). Calls under 0.05 per task are in \"other\"; futex is split "
            "into wait and wake. strace slows every call, so the worker's LAUNCH and COMPLETION arrive in "
            "separate reads more often than at full speed (compare read and poll with the table above).\n")
        parts.append("| client | " + " | ".join(top) + " | other | total | by thread |")
        parts.append("| --- | " + " | ".join("---" for _ in top) + " | --- | --- | --- |")
        for n, c in cl.items():
            if "per_task" not in c:
                parts.append(f"| {n} | {c.get('error', 'failed')} |")
                continue
            p = c["per_task"]
            other = sum(v for k, v in p.items() if k not in top)
            threads = ", ".join(f"{t} {v:.2f}" for t, v in sorted(c.get("by_thread", {}).items(),
                                                                 key=lambda kv: -kv[1]) if v >= 0.05)
            parts.append(f"| {n} | " + " | ".join(fmt(p.get(k), "{:.2f}") if p.get(k) else "0"
                                                for k in top)
                         + f" | {other:.2f} | {sum(p.values()):.2f} | {threads} |")
        parts.append("")
    if ev:
        runs = ev["runs"]
        names = list(dict.fromkeys(k.split("|", 1)[1] for k in runs))
        rounds = len(next(iter(runs.values())))
        parts.append("### Event delivery against the floor reader\n")
        parts.append(
            f"One task sending {ev['n']:,} UPDATEs (`for i in range(n): task.update(current=i)`) from the "
            "appose 0.12.0 Python worker to a listener; the floor reader (`floor events`: read(2) into one "
            "buffer, count the UPDATE lines until the COMPLETION, nothing else) runs the same task; the "
            "gulping floor reader (`floor -g 200 events`) also pauses 200 us before each read, as the "
            "library's reader does in a stream, so the worker's writes need not wake it. Not "
            "pinned; loaded: a CPU-bound loop pinned to core 1 (`taskset -c 1 sh -c 'while :; do :; done'`) "
            f"for the whole half-round. Median of {rounds} alternating rounds ({ev['when']}, load average "
            f"{ev['load'][0]} before, {ev['load'][1]} after; the loop itself adds 1). Ratio: the median over "
            "rounds of the client's events/s / the floor reader's in the same round.\n")
        parts.append("| client | idle: events/s | vs floor reader | vs gulping floor | loaded: events/s "
                     "| vs floor reader | vs gulping floor |")
        parts.append("| --- | --- | --- | --- | --- | --- | --- |")
        for n in names:
            cells = []
            for cond in ("idle", "loaded"):
                got = runs.get(f"{cond}|{n}", [])
                rs = [r["events_per_s"] for r in got if "events_per_s" in r]
                cells.append(fmt(median(rs), "{:.0f}"))
                short = [r for r in got if "received" in r and r["received"] != ev["n"]]
                errs = [r["error"] for r in got if "error" in r]
                if short:
                    cells[-1] += f" ({len(short)} runs missed events)"
                if errs:
                    cells[-1] += f" ({len(errs)} failed: {errs[-1][:60]})"
                for base in (FLOOR_READER, FLOOR_GULPS):
                    cells.append(fmt(paired_ratio(runs, f"{cond}|{n}", f"{cond}|{base}", "events_per_s"),
                                     "{:.2f}x"))
            parts.append(f"| {n} | " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)
