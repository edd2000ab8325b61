"""A protocol worker that answers correctly but buries its answers in noise.

For every EXECUTE it prints NOISE lines of garbage (text, partial JSON,
invalid UTF-8, bare NaN, fake responses for tasks that do not exist, blank
lines) around a LAUNCH and a COMPLETION carrying {"result": x * 2}, sometimes
glued to garbage or to each other on one line. Standard library only.
Usage: python noisy_worker.py NOISE
"""
import json
import random
import sys

NOISE = int(sys.argv[1]) if len(sys.argv) > 1 else 100
out = sys.stdout.buffer
rng = random.Random(7)

GARBAGE = [
    b"plain text from a script",
    b'{"task": "',
    b'{"task": "00000000000000000000000000000000", "responseType": "COMPLETION", "outputs": {}}',
    b'{"task": "deadbeef", "responseType": "UPDATE", "message": "not yours", "info": null}',
    b"\xff\xfe\xfd invalid utf-8 \xc3\x28",
    b"NaN",
    b"",
    b"   ",
    b"[1, 2, 3",
    b'{"responseType": "LAUNCH"}',
    b"}{][",
    b'{"task": 12, "responseType": "COMPLETION"}',
]


def noise(n):
    for _ in range(n):
        out.write(rng.choice(GARBAGE) + b"\n")


for line in sys.stdin.buffer:
    line = line.strip()
    if not line:
        break
    req = json.loads(line)
    if req.get("requestType") != "EXECUTE":
        continue
    task = req["task"]
    launch = json.dumps({"task": task, "responseType": "LAUNCH"}).encode()
    done = json.dumps(
        {"outputs": {"result": req["inputs"]["x"] * 2}, "responseType": "COMPLETION", "task": task}
    ).encode()
    half = NOISE // 2
    noise(half)
    style = rng.randrange(3)
    if style == 0:
        out.write(launch + b"\n")
        noise(NOISE - half)
        out.write(done + b"\n")
    elif style == 1:
        out.write(b"garbage before" + launch + done + b"\n")
        noise(NOISE - half)
    else:
        out.write(launch + b"{not json}" + done + b"\n\n")
        noise(NOISE - half)
    out.flush()
