#!/usr/bin/env python3
"""Runs a newcomer's tour of sessionctl in a new directory and writes what each step
printed to docs/first-hour-tour.md: the demo, status, list, events --tail 5, top --json,
watch stopped with Ctrl-C, serve --listen with grpcurl list, and the check that no
process left a crashed instance behind.

    python3 docs/tour/run-tour.py .build/release/sessionctl [grpcurl]
"""
import datetime
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SESSIONCTL = str(Path(sys.argv[1]).resolve())
GRPCURL = sys.argv[2] if len(sys.argv) > 2 else "grpcurl"
work = Path(tempfile.mkdtemp(prefix="tour-"))
out = []


def shown(command):
    return command.replace(SESSIONCTL, "sessionctl")


def step(title, command, text, status):
    out.append(f"### {title}\n\n```console\n$ {shown(command)}\n{text.rstrip()}\n")
    out.append(f"[exit {status}]\n```\n" if status != 0 else "```\n")


def run(title, args, timeout=120, display=None):
    result = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=timeout)
    text = result.stdout + (("\n" + result.stderr) if result.stderr.strip() else "")
    step(title, display or shlex.join(args), text, result.returncode)
    return result


run("The demo", [SESSIONCTL, "demo"])
run("Is anything serving?", [SESSIONCTL, "status"])
run("The sessions", [SESSIONCTL, "list"])
run("The last five events", [SESSIONCTL, "events", "--tail", "5"])
run("One snapshot of top, as JSON", [SESSIONCTL, "top", "--json"])

# watch, stopped with Ctrl-C (SIGINT) once it printed the session opened meanwhile.
watch = subprocess.Popen([SESSIONCTL, "watch"], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
time.sleep(1.0)
subprocess.run([SESSIONCTL, "open", "--user", "dora", "--data-source", "telemetry"], cwd=work, capture_output=True)
time.sleep(1.0)
watch.send_signal(signal.SIGINT)
text, _ = watch.communicate(timeout=30)
step("watch, then Ctrl-C", "sessionctl watch   # a session is opened from another shell, then Ctrl-C", text + "^C", watch.returncode)

# serve --listen, grpcurl list through reflection, SIGTERM.
serve = subprocess.Popen([SESSIONCTL, "serve", "--listen", "127.0.0.1:0"], cwd=work, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
lines = []
port = None
deadline = time.monotonic() + 60
while port is None and time.monotonic() < deadline:
    line = serve.stdout.readline()
    lines.append(line)
    match = re.search(r"grpc\.address=\S*?:(\d+)", line)
    if match:
        port = match.group(1)
listed = subprocess.run([GRPCURL, "-plaintext", f"127.0.0.1:{port}", "list"], capture_output=True, text=True, timeout=60)
serve.send_signal(signal.SIGTERM)
rest, _ = serve.communicate(timeout=30)
lines.append(rest)
step("serve --listen", "sessionctl serve --listen 127.0.0.1:0   # stopped with SIGTERM after grpcurl", "".join(lines), serve.returncode)
step("grpcurl list, while serve runs", f"grpcurl -plaintext 127.0.0.1:{port} list", listed.stdout + listed.stderr,
     listed.returncode)

CHECK = ("SELECT seq, at, json_extract(payload, '$.deadInstances') AS dead_instances, "
         "json_extract(payload, '$.rearmEpoch') IS NOT NULL AS rearmed FROM recent_events "
         "WHERE kind = 'store.recovered' ORDER BY seq")
run("No crash recorded after the demo's own", ["sqlite3", "-header", "-column", "sessions.sqlite", CHECK],
    display='sqlite3 -header -column sessions.sqlite "' + CHECK.replace("$", "\\$") + '"')

header = f"""# A newcomer's first hour, as run

What `sessionctl` printed for each step of a first tour, on a new directory, with the
release build (`swift build -c release`), on {datetime.date.today().isoformat()}. Made by
[`docs/tour/run-tour.py`](tour/run-tour.py); session keys, times and figures differ from
run to run.

The last step is the check that matters: the demo's load generator is killed with
SIGKILL on purpose, so its `store.recovered` event names one dead instance; every later
command, `watch` stopped with Ctrl-C and `serve` stopped with SIGTERM included, closed its
store cleanly, so no further recovery names a dead instance. (After `serve` stops
cleanly, the next open re-arms the suspended sessions: that recovery names no dead
instance.)

"""
(ROOT / "docs" / "first-hour-tour.md").write_text(header + "\n".join(out))
print(f"wrote docs/first-hour-tour.md from {work}")
