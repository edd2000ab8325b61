"""Runs the benchmark clients (built by run.sh), alternating them, and writes
the results (markdown), a chart (PNG) and the figures (JSON).

Usage: run.py ROOT OUT_DIR [PART...]; PART: peers, syscalls, null, events
(default: all four, in that order, about 10 min). Each part keeps its figures
in OUT_DIR/<part>.json; results.md is rebuilt from every part's last figures,
so a part run alone refreshes its own section and keeps the others.
  peers     the clients side by side against the Python worker (~5 min);
            also writes chart.png
  syscalls  system calls per task of each client, under strace and perf stat
            (~2 min; needs strace and perf)
  null      per-task cost against the null worker, pinned to cores (~2.5 min)
  events    event delivery against the floor readers, idle and loaded (~2 min)
  objects   releasing 10,000 worker objects against making them (~30 s; not in
            the default set)
"""
import json
import os
import platform
import subprocess
import sys

import pertask

root, out = sys.argv[1], sys.argv[2]
PARTS = ["peers", "syscalls", "null", "events"]
parts = sys.argv[3:] or PARTS
for part in parts:
    if part not in PARTS + ["objects"]:
        sys.exit(f"unknown part {part!r}; parts: {', '.join(PARTS)}")
env_dir = f"{root}/target/tmp/python-env"
py = f"{env_dir}/bin/python"
java_cp = f"{out}/java-deps/*:{out}/java"

CLIENTS = {
    "libappose (Rust API)": [f"{root}/target/release/examples/bench_client", env_dir],
    "libappose (C ABI)": [f"{out}/client", env_dir],
    "appose-python 0.12.0": [py, f"{root}/tests/bench/python_client.py", env_dir],
    "appose-java 0.9.0": ["java", "-cp", java_cp, "JavaClient", env_dir],
    "floor client": [f"{out}/floor", f"{env_dir}/bin/python"],
}
MODES = {  # mode: (N, rounds, clients that support it)
    "roundtrip": (2000, 5, list(CLIENTS)),
    "throughput": (2000, 3, list(CLIENTS)),
    "startup": (5, 3, [c for c in CLIENTS if c != "floor client"]),
    # The floor client's events mode is the floor reader (see floor.c).
    "events": (100_000, 3, list(CLIENTS)),
    "arrays": (1 << 30, 3, ["libappose (Rust API)", "appose-python 0.12.0"]),
}


def run(client, mode, n):
    cmd = CLIENTS[client] + [mode, str(n)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return {"error": "no result within 300 s"}
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


# The figure each mode's rounds are ranked by.
KEYS = {
    "roundtrip": "median_us",
    "throughput": "tasks_per_s",
    "startup": "startup_ms",
    "events": "events_per_s",
    "arrays": "handoff_ms",
}


def peers():
    """The peers side by side against the Python worker: peers.md, peers.json, chart.png."""
    rounds_of = {}
    for mode, (n, rounds, clients) in MODES.items():
        for r in range(rounds):
            for client in clients:
                res = run(client, mode, n)
                print(f"{mode:10} {client:24} {res}", file=sys.stderr, flush=True)
                rounds_of.setdefault((mode, client), []).append(res)

    # The median round of each client (this machine's run-to-run noise is larger
    # than some of the differences measured; the median of alternating rounds
    # is not moved by one lucky or unlucky round).
    results = {}
    for (mode, client), runs in rounds_of.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            results[(mode, client)] = runs[-1]
            continue
        key = KEYS.get(mode)
        if key:
            ok.sort(key=lambda r: r.get(key, 0))
        results[(mode, client)] = ok[len(ok) // 2]

    def get(mode, client, key):
        return results.get((mode, client), {}).get(key)

    floor = get("roundtrip", "floor client", "median_us")
    rows = []
    for client in CLIENTS:
        med, p99 = get("roundtrip", client, "median_us"), get("roundtrip", client, "p99_us")
        tput, lost = get("throughput", client, "tasks_per_s"), get("throughput", client, "lost")
        start = get("startup", client, "startup_ms")
        ev = get("events", client, "events_per_s")
        fmt = lambda v, f="{:.0f}": "n/a" if v is None else f.format(v)
        rows.append(
            f"| {client} | {fmt(med)} | {fmt(p99)} | {fmt(med / floor if med and floor else None, '{:.2f}x')} "
            f"| {fmt(tput)} | {fmt(lost)} | {fmt(start, '{:.0f}')} | {fmt(ev)} |"
        )

    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    machine = f"{os.cpu_count()} cores, {cpu}, Linux {platform.release()}, CPython {platform.python_version()}"
    rust_arr = results.get(("arrays", "libappose (Rust API)"), {})
    py_arr = results.get(("arrays", "appose-python 0.12.0"), {})
    copy = rust_arr.get("numpy_copy_ms")
    lines = [
        f"Machine: {machine}. Worker: appose 0.12.0 (Python), numpy 2.2.6.",
        "",
        "| client | round trip median (us) | p99 (us) | vs floor | throughput (tasks/s, 2,000 in flight) "
        "| never completed | startup to first result (ms) | UPDATE events/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"1 GiB float32 array to the worker, written there, read back: libappose {rust_arr.get('handoff_ms')} ms, "
        f"appose-python {py_arr.get('handoff_ms')} ms; one numpy copy of 1 GiB in the worker: {copy} ms "
        f"(libappose's handoff = {100 * rust_arr.get('handoff_ms', 0) / copy if copy else float('nan'):.2f}% of one copy).",
    ]
    table = "\n".join(lines) + "\n"
    open(f"{out}/peers.md", "w").write(table)
    json.dump({f"{m}|{c}": v for (m, c), v in results.items()}, open(f"{out}/peers.json", "w"), indent=1)


    import matplotlib  # noqa: E402

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: E402

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    names = list(CLIENTS)
    short = [n.replace(" (", "\n(").replace(" 0.", "\n0.") for n in names]
    for ax, (mode, key, title) in zip(
        axes,
        [
            ("roundtrip", "median_us", "Round trip, median (us, lower is better)"),
            ("throughput", "tasks_per_s", "Throughput, 2,000 in flight (tasks/s)"),
            ("events", "events_per_s", "UPDATE events/s to a listener"),
        ],
    ):
        vals = [get(mode, n, key) or 0 for n in names]
        bars = ax.bar(short, vals, color=["#2a7", "#2a7", "#c84", "#c84", "#999"])
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="x", labelsize=7)
        for b, v in zip(bars, vals):
            ax.annotate(f"{v:.0f}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=7)
    fig.suptitle(machine, fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{out}/chart.png", dpi=110)


def objects():
    """Median of 3 runs: 10,000 worker objects made one task each, then
    dropped; release = until the worker's export count is back."""
    runs = [run("libappose (Rust API)", "objects", 10_000) for _ in range(3)]
    runs = [r for r in runs if "error" not in r]
    if not runs:
        sys.exit("the objects benchmark failed")
    runs.sort(key=lambda r: r["release_vs_create"])
    r = runs[len(runs) // 2]
    md = (
        "Worker objects: 10,000 made by 10,000 tasks in "
        f"{r['create_ms']:.0f} ms; all released in {r['release_ms']:.1f} ms "
        f"({100 * r['release_vs_create']:.2f}% of making them; median of {len(runs)}).\n"
    )
    open(f"{out}/objects.md", "w").write(md)


RUN = {
    "peers": peers,
    "objects": objects,
    "syscalls": lambda: pertask.syscalls(root, out),
    "null": lambda: pertask.null_roundtrip(root, out),
    "events": lambda: pertask.events(root, out),
}
for part in PARTS + ["objects"]:
    if part in parts:
        print(f"== {part}", file=sys.stderr, flush=True)
        RUN[part]()

sections = []
try:
    sections.append(open(f"{out}/peers.md").read())
except OSError:
    pass
sections.append(pertask.render(out))
try:
    sections.append(open(f"{out}/objects.md").read())
except OSError:
    pass
results_md = "\n".join(s for s in sections if s)
open(f"{out}/results.md", "w").write(results_md)
print(results_md)
print(f"wrote {out}/results.md" + (f" and {out}/chart.png" if "peers" in parts else ""), file=sys.stderr)
