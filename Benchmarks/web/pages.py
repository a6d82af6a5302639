"""The sessions page (and the overview and events pages) over a large store: the server's own render time of each request
(`web page rendered`, `web.render_ms`, logged at debug) at p50, p99 and max, by page.

    python3 Benchmarks/web/pages.py --sessionctl .build/release/sessionctl --db big.sqlite
"""
import argparse
import http.client
import json
import os
import tempfile
import time

from serve import WebServer


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessionctl", default=".build/release/sessionctl")
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=100)
    arguments = parser.parse_args()
    work = tempfile.mkdtemp(prefix="web-pages-")
    server = WebServer(arguments.sessionctl, arguments.db, os.path.join(work, "serve.log"), log_level="debug")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def fetch(path):
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode()
        assert response.status == 200, (path, response.status, body[:400])
        return body

    first = fetch("/sessions?state=all&order=created")
    after = first.split('id="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    pages = {
        "live, newest first": "/sessions",
        "every state, newest first": "/sessions?state=all",
        "ended, newest first": "/sessions?state=ended",
        "live, oldest first": "/sessions?order=created",
        "live, expires first": "/sessions?order=expires",
        "live, by user": "/sessions?order=user",
        "one user, live": "/sessions?user=user-3",
        "one user, every state": "/sessions?user=user-3&state=all",
        "one data source": "/sessions?source=source-1",
        "one data source and user, every state": "/sessions?source=source-1&user=user-4&state=all",
        "text search (a user id)": "/sessions?q=user-5",
        "overview": "/",
        "events": "/events",
        "second page, every state": after,
    }
    client = {name: [] for name in pages}
    for _ in range(arguments.rounds):
        for name, path in pages.items():
            started = time.perf_counter()
            fetch(path)
            client[name].append((time.perf_counter() - started) * 1000)
    connection.close()
    server.stop()
    rendered = [line for line in server.log_lines() if line.get("message") == "web page rendered"]
    # One line per request, in the order the requests were sent (one connection, one at a time).
    rendered = rendered[1:]
    server_ms = {name: [] for name in pages}
    names = list(pages) * arguments.rounds
    for name, line in zip(names, rendered):
        server_ms[name].append(float(line["metadata"]["web.render_ms"]))
    every = [value for name, values in server_ms.items() if pages[name].startswith("/sessions") for value in values]
    report = {
        name: {
            "server_p50_ms": round(percentile(server_ms[name], 0.50), 2),
            "server_p99_ms": round(percentile(server_ms[name], 0.99), 2),
            "server_max_ms": round(max(server_ms[name]), 2),
            "client_p99_ms": round(percentile(client[name], 0.99), 2),
        }
        for name in pages
    }
    report["every sessions page"] = {
        "requests": len(every), "server_p50_ms": round(percentile(every, 0.50), 2),
        "server_p99_ms": round(percentile(every, 0.99), 2), "server_max_ms": round(max(every), 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
