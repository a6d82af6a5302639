"""The server's life: health, a SIGTERM that drains open streams and in-flight calls, and
a SIGKILL in the middle of a load after which a restarted server has every change the
clients were told was made."""
import queue
import threading
import time

import grpc

from conftest import Server, pb, rpc, health_pb2, health_pb2_grpc


def test_health_check_and_watch(tmp_path):
    server = Server(tmp_path)
    with server.channel() as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", "sessionstore.v1.SessionManagement", "sessionstore.v1.ExecutionManagement"):
            assert health.Check(health_pb2.HealthCheckRequest(service=name)).status == health_pb2.HealthCheckResponse.SERVING
        try:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
            raise AssertionError("an unknown service must not be SERVING")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND
        statuses = queue.Queue()
        watch = health.Watch(health_pb2.HealthCheckRequest(service=""))
        def follow():
            try:
                for message in watch:
                    statuses.put(message.status)
            except grpc.RpcError:
                pass  # the server went away after NOT_SERVING

        threading.Thread(target=follow, daemon=True).start()
        assert statuses.get(timeout=30) == health_pb2.HealthCheckResponse.SERVING
        assert server.stop() == 0, server.log_text()
        assert statuses.get(timeout=30) == health_pb2.HealthCheckResponse.NOT_SERVING


def test_sigterm_drains_100_streams_and_in_flight_calls(tmp_path):
    server = Server(tmp_path)
    channel = server.channel()
    sessions = rpc.SessionManagementStub(channel)
    streams, ended = [], queue.Queue()

    def follow(stream):
        try:
            for _ in stream:
                pass
            ended.put("OK")
        except grpc.RpcError as error:
            ended.put(error.code())

    for index in range(100):
        if index % 2:
            stream = sessions.GetSessionStopNotification(pb.GetSessionStopNotificationRequest(data_source=f"ds{index}"))
        else:
            stream = sessions.StreamEvents(pb.StreamEventsRequest(after_seq=0, follow=True))
        streams.append(stream)
        threading.Thread(target=follow, args=(stream,), daemon=True).start()

    acknowledged, stop = [], threading.Event()
    lock = threading.Lock()

    def load():
        while not stop.is_set():
            try:
                key = sessions.CreateSession(pb.CreateSessionRequest(user_id="ada", details={"n": "1"})).session_key
            except grpc.RpcError:
                return
            with lock:
                acknowledged.append(key)

    workers = [threading.Thread(target=load, daemon=True) for _ in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 50:
        assert any(w.is_alive() for w in workers), server.log_text()
        assert time.monotonic() < deadline, f"{len(acknowledged)} sessions in 60 s"
        time.sleep(0.01)

    started = time.monotonic()
    server.process.send_signal(15)
    code = server.process.wait(timeout=30)
    elapsed = time.monotonic() - started
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    assert code == 0, server.log_text()
    # Every stream ended UNAVAILABLE at the drain (below), well before the 10 s drain
    # deadline would have cut one; the bound leaves room for a loaded machine.
    assert elapsed < 15, f"drained in {elapsed:.1f} s"
    outcomes = [ended.get(timeout=10) for _ in range(100)]
    assert set(outcomes) == {grpc.StatusCode.UNAVAILABLE}, outcomes
    channel.close()

    restarted = Server(tmp_path, db=server.db)
    try:
        with restarted.channel() as channel:
            stub = rpc.SessionManagementStub(channel)
            for key in acknowledged:
                assert stub.GetSessionInfo(pb.GetSessionInfoRequest(session_key=key)).session.details["n"] == "1"
    finally:
        assert restarted.stop() == 0


def test_a_killed_server_restarts_with_every_acknowledged_change(tmp_path):
    server = Server(tmp_path)
    channel = server.channel()
    sessions = rpc.SessionManagementStub(channel)
    acknowledged, lock = {}, threading.Lock()

    def load(worker):
        count = 0
        while True:
            try:
                key = sessions.CreateSession(pb.CreateSessionRequest(user_id=f"user{worker}", details={"step": "0"})).session_key
                with lock:
                    acknowledged[key] = "0"
                for step in range(1, 4):
                    sessions.UpdateSessionDetails(pb.UpdateSessionDetailsRequest(session_key=key, details={"step": str(step)}))
                    with lock:
                        acknowledged[key] = str(step)
                count += 1
            except grpc.RpcError:
                return

    workers = [threading.Thread(target=load, args=(n,), daemon=True) for n in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 100:
        assert any(w.is_alive() for w in workers), server.log_text()
        assert time.monotonic() < deadline, f"{len(acknowledged)} sessions in 60 s"
        time.sleep(0.01)
    server.kill()
    for worker in workers:
        worker.join(timeout=30)
    channel.close()

    restarted = Server(tmp_path, db=server.db)
    try:
        with restarted.channel() as channel:
            stub = rpc.SessionManagementStub(channel)
            for key, step in acknowledged.items():
                session = stub.GetSessionInfo(pb.GetSessionInfoRequest(session_key=key)).session
                assert session.state == pb.SESSION_STATE_IDLE
                assert int(session.details["step"]) >= int(step), (key, step, dict(session.details))
    finally:
        assert restarted.stop() == 0
