"""Benchmark client using appose-python's own client (see tests/bench/run.sh).
Usage: python python_client.py ENV_DIR MODE N [WORKER ARGV...]
MODE: roundtrip (N sequential tasks after N/10 warm-up), throughput, startup,
events, arrays. With a WORKER argv, the service runs that command instead of
the environment's Python worker (e.g. the null worker; roundtrip and
throughput only). Prints one JSON line.
"""
import json
import resource
import sys
import threading
import time

from appose.service import Service

env_dir, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
python = f"{env_dir}/bin/python"
worker = sys.argv[4:] or [python, "-c", "import appose.python_worker; appose.python_worker.main()"]


def service(init=None):
    svc = Service(env_dir, None, *worker)
    if init is not None:
        svc.init(init)
    svc.start()
    return svc


if mode == "roundtrip":
    svc = service()
    for _ in range(n // 10):
        svc.task("1").wait_for()
    v = []

    def cpu_us():  # CPU time (user + system) of this process, all threads
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return (ru.ru_utime + ru.ru_stime) * 1e6

    c0 = cpu_us()
    for _ in range(n):
        t0 = time.perf_counter()
        svc.task("1").wait_for()
        v.append((time.perf_counter() - t0) * 1e6)
    cpu = (cpu_us() - c0) / n
    v.sort()
    print(json.dumps({"median_us": round(v[n // 2], 1), "p99_us": round(v[n * 99 // 100], 1), "cpu_us": round(cpu, 2)}))
    svc.close()
elif mode == "throughput":
    svc = service()
    svc.task("1").wait_for()
    t0 = time.perf_counter()
    tasks = [svc.task("1").start() for _ in range(n)]
    # wait_for has no timeout: wait on the tasks' condition with a deadline.
    deadline = t0 + 30
    lost = 0
    for t in tasks:
        with t.cv:
            while t.status.value in ("QUEUED", "RUNNING") and time.perf_counter() < deadline:
                t.cv.wait(max(0.0, deadline - time.perf_counter()))
        if t.status.value != "COMPLETE":
            lost += 1
    secs = time.perf_counter() - t0
    print(json.dumps({"tasks_per_s": round((n - lost) / secs), "lost": lost}))
    svc.kill()
elif mode == "startup":
    v = []
    for _ in range(n):
        t0 = time.perf_counter()
        svc = service()
        svc.task("1").wait_for()
        v.append((time.perf_counter() - t0) * 1e3)
        svc.close()
        svc.wait_for()
    v.sort()
    print(json.dumps({"startup_ms": round(v[n // 2], 1)}))
elif mode == "events":
    svc = service()
    svc.task("1").wait_for()
    count = [0]
    lock = threading.Lock()

    def listener(event):
        with lock:
            count[0] += 1

    task = svc.task("for i in range(n):\n    task.update(current=i)\n", {"n": n})
    task.listen(listener)
    t0 = time.perf_counter()
    task.wait_for()
    secs = time.perf_counter() - t0
    got = count[0] - 2
    print(json.dumps({"events_per_s": round(got / secs), "received": got}))
    svc.close()
elif mode == "arrays":
    from appose import NDArray

    svc = service("import numpy")
    a = NDArray("float32", [n // 4 // 4096, 4096])
    a.ndarray()[...] = 1.0
    svc.task("image.ndarray()[0, 0] = 0", {"image": a}).wait_for()
    v = []
    for r in range(7):
        t0 = time.perf_counter()
        svc.task(f"image.ndarray()[-1, -1] = {r}", {"image": a}).wait_for()
        assert a.ndarray()[-1, -1] == r
        v.append((time.perf_counter() - t0) * 1e3)
    v.sort()
    print(json.dumps({"handoff_ms": round(v[3], 2)}))
    svc.close()
    a.shm.dispose()
