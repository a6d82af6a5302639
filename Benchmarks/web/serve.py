"""A `sessionctl serve --http 127.0.0.1:0` on a database file, for the web view's
benchmarks: where it listens, its resident memory and CPU time, and its JSON log."""
import json
import os
import re
import signal
import subprocess
import time


class WebServer:
    def __init__(self, sessionctl, db, log_path, log_level="info"):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sessionctl, "serve", "--db", db, "--http", "127.0.0.1:0", "--log-level", log_level, "--json"],
            stdout=subprocess.DEVNULL, stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = re.search(r'"web.address":"127\.0\.0\.1:(\d+)"', open(log_path).read())
            if match:
                self.port = int(match.group(1))
                return
            if self.process.poll() is not None:
                raise RuntimeError(open(log_path).read())
            time.sleep(0.05)
        raise RuntimeError("serve --http did not listen")

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def cpu_percent(self, seconds):
        """The server's CPU use over the next `seconds`, in percent of one core."""
        before, started = self.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        return 100 * (self.cpu_seconds() - before) / (time.monotonic() - started)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code

    def log_lines(self):
        lines = []
        for line in open(self.log_path):
            try:
                lines.append(json.loads(line))
            except ValueError:
                pass
        return lines
