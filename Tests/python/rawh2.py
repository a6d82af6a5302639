"""A raw HTTP/2 gRPC client (hyper-h2 over a socket) for requests a gRPC library will not
send: malformed `grpc-timeout` values, odd content types, and the like. It also shows the
status the server itself sends, where a gRPC client would report its own deadline."""
import socket
import struct
import time

import h2.config
import h2.connection
import h2.events


def grpc_message(payload=b""):
    """A length-prefixed gRPC message."""
    return b"\0" + struct.pack(">I", len(payload)) + payload


class Answer:
    def __init__(self):
        self.headers = {}
        self.trailers = {}
        self.data = b""
        self.reset = None
        self.ended = False
        self.elapsed = None

    @property
    def fields(self):
        return {**self.headers, **self.trailers}

    @property
    def status(self):
        """The grpc-status as a number; None when the server sent none."""
        value = self.fields.get("grpc-status")
        return int(value) if value is not None else None

    @property
    def code(self):
        return self.fields.get("sessionstore-error-code")


def _bytes(value):
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogateescape")


def call(address, path, payload=b"", headers=(), timeout=10.0):
    """Sends one call of `payload` on `path` with the usual gRPC request headers, each
    replaced (or, with None, dropped) by `headers`, and reads until the call ends."""
    host, port = address.rsplit(":", 1)
    config = h2.config.H2Configuration(
        client_side=True, validate_outbound_headers=False, normalize_outbound_headers=False, validate_inbound_headers=False
    )
    connection = h2.connection.H2Connection(config=config)
    overrides = {name: value for name, value in headers}
    request = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", address)]
    for name, value in [("content-type", "application/grpc"), ("te", "trailers")]:
        if name not in overrides:
            request.append((name, value))
    request += [(name, value) for name, value in headers if value is not None]
    answer = Answer()
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        connection.initiate_connection()
        stream = connection.get_next_available_stream_id()
        connection.send_headers(stream, [(_bytes(n), _bytes(v)) for n, v in request])
        connection.send_data(stream, grpc_message(payload), end_stream=True)
        sock.sendall(connection.data_to_send())
        while not answer.ended and answer.reset is None:
            data = sock.recv(65536)
            if not data:
                break
            for event in connection.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    answer.headers = {n.decode(): v.decode("utf-8", "replace") for n, v in event.headers}
                elif isinstance(event, h2.events.TrailersReceived):
                    answer.trailers = {n.decode(): v.decode("utf-8", "replace") for n, v in event.headers}
                elif isinstance(event, h2.events.DataReceived):
                    answer.data += event.data
                    connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    answer.ended = True
                elif isinstance(event, h2.events.StreamReset):
                    answer.reset = event.error_code
                elif isinstance(event, h2.events.ConnectionTerminated):
                    answer.reset = event.error_code
            pending = connection.data_to_send()
            if pending:
                sock.sendall(pending)
    answer.elapsed = time.monotonic() - started
    return answer


class StalledReader:
    """A connection that opens one call and then reads nothing: its flow-control window is
    zero, so the server can send it headers but no message."""

    def __init__(self, address, path, payload=b""):
        import h2.settings

        host, port = address.rsplit(":", 1)
        config = h2.config.H2Configuration(client_side=True)
        self.connection = h2.connection.H2Connection(config=config)
        self.connection.local_settings = h2.settings.Settings(
            client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0}
        )
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.connection.initiate_connection()
        stream = self.connection.get_next_available_stream_id()
        self.connection.send_headers(stream, [
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", address),
            ("content-type", "application/grpc"), ("te", "trailers"),
        ])
        self.connection.send_data(stream, grpc_message(payload), end_stream=True)
        self.sock.sendall(self.connection.data_to_send())

    def close(self):
        self.sock.close()
