"""Fixtures for the Python client suite: stubs generated from Protos/ at test time, and
real `sessionctl serve --listen` processes on temporary database files.

The suite runs in the project's virtual environment, .venv/, which .ci/install-deps makes
from requirements.txt; the health service's stubs come from its grpcio-health-checking.

The suite needs the built `sessionctl`: SESSIONCTL names it, else .build/debug/sessionctl.
"""
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE_KEY = "sessionstore-error-code"


def _generate_stubs():
    from grpc_tools import protoc
    import grpc_tools

    out = Path(tempfile.mkdtemp(prefix="sessionstore-stubs-"))
    wkt = Path(grpc_tools.__file__).parent / "_proto"
    protos = ["sessionstore/v1/sessionstore.proto"]
    status = protoc.main(
        ["protoc", f"-I{ROOT / 'Protos'}", f"-I{wkt}", f"--python_out={out}", f"--grpc_python_out={out}", *protos]
    )
    if status != 0:
        raise RuntimeError(f"protoc failed with {status}")
    sys.path.insert(0, str(out))


_generate_stubs()

from sessionstore.v1 import sessionstore_pb2 as pb  # noqa: E402
from sessionstore.v1 import sessionstore_pb2_grpc as rpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402,F401


def sessionctl_path():
    path = os.environ.get("SESSIONCTL") or str(ROOT / ".build" / "debug" / "sessionctl")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"sessionctl not found at {path}: build it first or set SESSIONCTL")
    return path


class Server:
    """A running `sessionctl serve --listen 127.0.0.1:0` and how to reach it."""

    def __init__(self, directory, args=(), db=None, host="127.0.0.1", env=None, preexec_fn=None):
        self.directory = Path(directory)
        self.db = Path(db) if db else self.directory / "sessions.sqlite"
        self.log_path = self.directory / f"serve-{time.monotonic_ns()}.log"
        self.host = host
        command = [sessionctl_path(), "serve", "--db", str(self.db), "--listen", f"{host}:0", *args]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env, preexec_fn=preexec_fn)
        self.port = self._wait_for_port()
        self.address = f"{host}:{self.port}"

    def _wait_for_port(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_path.read_text()
            match = re.search(r"grpc\.address=\S*?:(\d+)", text)
            if match:
                return int(match.group(1))
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}:\n{text}")
            time.sleep(0.05)
        raise RuntimeError(f"serve did not listen within {timeout} s:\n{self.log_path.read_text()}")

    def channel(self, credentials=None, token=None):
        if credentials is None:
            channel = grpc.insecure_channel(self.address)
        else:
            channel = grpc.secure_channel(self.address, credentials, options=[("grpc.ssl_target_name_override", "localhost")])
        if token is not None:
            channel = grpc.intercept_channel(channel, BearerToken(token))
        return channel

    def stop(self, timeout=10):
        """SIGTERM; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=timeout)
        self.log.close()
        return self.process.returncode

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def log_text(self):
        return self.log_path.read_text()


class BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer TOKEN` to every call."""

    def __init__(self, token):
        self.token = token

    def _details(self, details):
        metadata = list(details.metadata or []) + [("authorization", f"Bearer {self.token}")]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


def error_code(error):
    """The store's stable code of a failed call, from the trailing metadata."""
    for key, value in error.trailing_metadata() or ():
        if key == CODE_KEY:
            return value
    return None


def expect_error(call, status, code):
    """Runs `call`, which must fail with gRPC `status` and store `code`; returns the error."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error = caught.value
    assert error.code() == status, f"{error.code()} {error.details()}"
    assert error_code(error) == code, f"{error_code(error)} {error.details()}"
    return error


def database_state(db):
    """Every row of every table of the file, to check that a refused call changed nothing."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        skip = {"instances", "store_state"}  # heartbeats move on their own
        return {t: connection.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall() for t in tables if t not in skip}
    finally:
        connection.close()


def events(db, kind=None):
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if kind is None:
            return connection.execute("SELECT seq, kind, session_key, user_id, payload FROM events ORDER BY seq").fetchall()
        return connection.execute(
            "SELECT seq, kind, session_key, user_id, payload FROM events WHERE kind = ? ORDER BY seq", (kind,)
        ).fetchall()
    finally:
        connection.close()


@pytest.fixture
def server(tmp_path):
    """An unauthenticated loopback server (`--auth none`)."""
    running = Server(tmp_path)
    yield running
    assert running.stop() == 0, running.log_text()


@pytest.fixture
def sessions(server):
    with server.channel() as channel:
        yield rpc.SessionManagementStub(channel)


@pytest.fixture
def executions(server):
    with server.channel() as channel:
        yield rpc.ExecutionManagementStub(channel)
