"""100 Server-Sent Events clients on the web view: the follower's queries per commit
(from /metrics), and the server's resident memory and CPU idle, with the clients
connected, and after they disconnect.

    python3 Benchmarks/web/sse_clients.py --sessionctl .build/debug/sessionctl
"""
import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import tempfile
import time

from serve import WebServer


def metric(port, name):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    match = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(match.group(1))


def connect(port):
    client = socket.create_connection(("127.0.0.1", port))
    client.sendall(b"GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    client.settimeout(10)
    return client


def follow(arguments, server, db, count):
    """Connects `count` clients, makes --commits opens each every client receives, then
    disconnects them: the follower's reads, and the server's memory and CPU connected and
    after the clients left."""
    port = server.port
    clients = [connect(port) for _ in range(count)]
    deadline = time.monotonic() + 30
    while metric(port, "sessionstore_web_stream_clients") < count and time.monotonic() < deadline:
        time.sleep(0.1)
    figures = {"clients": metric(port, "sessionstore_web_stream_clients")}
    figures["connected_rss_kib"] = server.rss_kib()
    figures["connected_idle_cpu_percent"] = round(server.cpu_percent(arguments.window), 2)
    reads_before = metric(port, "sessionstore_event_follower_reads_total")
    received = [b""] * len(clients)
    for number in range(arguments.commits):
        result = subprocess.run(
            [arguments.sessionctl, "open", "--db", db, "--user", f"user-{number % 7}", "--json"],
            check=True, capture_output=True, text=True)
        key = json.loads(result.stdout)["key"]
        for index, client in enumerate(clients):
            while key.encode() not in received[index]:
                received[index] += client.recv(65536)
            received[index] = received[index][-4096:]
    figures["opens"] = arguments.commits
    figures["follower_reads"] = metric(port, "sessionstore_event_follower_reads_total") - reads_before
    figures["every_client_received_every_open"] = True
    for client in clients:
        client.close()
    left = time.monotonic()
    deadline = left + 30
    while metric(port, "sessionstore_web_stream_clients") > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    figures["seconds_until_all_left"] = round(time.monotonic() - left, 1)
    figures["after_rss_kib"] = server.rss_kib()
    figures["after_cpu_percent"] = round(server.cpu_percent(arguments.window), 2)
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessionctl", default=".build/debug/sessionctl")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=10.0, help="seconds each CPU figure is measured over")
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="web-sse-")
    db = os.path.join(work, "sse.sqlite")
    subprocess.run([arguments.sessionctl, "init", "--db", db], check=True, capture_output=True)
    server = WebServer(arguments.sessionctl, db, os.path.join(work, "serve.log"))
    port = server.port
    time.sleep(2)
    figures = {"idle": {"rss_kib": server.rss_kib(), "cpu_percent": round(server.cpu_percent(arguments.window), 2)}}

    # The same commits followed by one client, then by --clients at once, --rounds times:
    # the follower's reads follow the commits, not the clients; memory settles.
    figures["one_client"] = follow(arguments, server, db, 1)
    for number in range(arguments.rounds):
        figures[f"round_{number + 1}"] = follow(arguments, server, db, arguments.clients)
    figures["exit_code"] = server.stop()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
