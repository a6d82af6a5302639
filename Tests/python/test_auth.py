"""Authentication and isolation: bearer tokens, TLS and mutual TLS with certificates made
at test time, the refusal of unsafe listen addresses and token files, and principals that
cannot see or touch each other's sessions."""
import os
import queue
import subprocess
import threading
import uuid

import grpc
import pytest

from conftest import Server, pb, rpc, health_pb2, health_pb2_grpc, expect_error, database_state, events, sessionctl_path

TOKENS = {"alice-token-0123456789": "alice", "mallory-token-0123456789": "mallory", "svc-token-0123456789": "svc"}


def token_file(directory, mode=0o600):
    path = directory / "tokens"
    path.write_text("# token principal\n" + "".join(f"{t} {p}\n" for t, p in TOKENS.items()))
    os.chmod(path, mode)
    return path


@pytest.fixture
def token_server(tmp_path):
    server = Server(tmp_path, args=["--auth", "token", "--token-file", str(token_file(tmp_path))])
    yield server
    assert server.stop() == 0, server.log_text()


def stubs(server, token):
    channel = server.channel(token=token)
    return channel, rpc.SessionManagementStub(channel), rpc.ExecutionManagementStub(channel)


def test_missing_and_wrong_tokens_are_refused_and_recorded(token_server):
    # A refused credential carries the store code like every other failure.
    with token_server.channel() as channel:
        expect_error(
            lambda: rpc.SessionManagementStub(channel).CreateSession(pb.CreateSessionRequest()),
            grpc.StatusCode.UNAUTHENTICATED,
            "PERMISSION_DENIED.AUTHENTICATION",
        )
    with token_server.channel(token="guessed-token") as channel:
        error = expect_error(
            lambda: rpc.SessionManagementStub(channel).CreateSession(pb.CreateSessionRequest()),
            grpc.StatusCode.UNAUTHENTICATED,
            "PERMISSION_DENIED.AUTHENTICATION",
        )
        assert "guessed" not in error.details()
    # Refusals from one address are recorded in aggregate: the first at once, the rest of
    # its minute as one event when the window closes (here: when serve stops).
    assert len(events(token_server.db, "call.refused")) == 1
    assert token_server.stop() == 0
    refused = events(token_server.db, "call.refused")
    assert len(refused) == 2
    assert all("sessionstore.v1.SessionManagement/CreateSession" in row[4] for row in refused)
    assert "unknown bearer token" in refused[1][4]
    assert "guessed-token" not in "".join(row[4] for row in refused)
    assert database_state(token_server.db)["sessions"] == []


def test_a_token_names_the_principal(token_server):
    channel, sessions, _ = stubs(token_server, "alice-token-0123456789")
    with channel:
        created = sessions.CreateSession(pb.CreateSessionRequest(data_source="ds"))
        assert created.session.user_id == "alice"
        assert created.session.client_address == "127.0.0.1"
        expect_error(
            lambda: sessions.CreateSession(pb.CreateSessionRequest(user_id="bob")),
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_DENIED.IMPERSONATION",
        )


def test_another_principals_session_is_not_found_and_untouched(token_server):
    alice_channel, alice, alice_exec = stubs(token_server, "alice-token-0123456789")
    mallory_channel, mallory, mallory_exec = stubs(token_server, "mallory-token-0123456789")
    with alice_channel, mallory_channel:
        key = alice.CreateSession(
            pb.CreateSessionRequest(data_source="ds", config={"spark.hadoop.fs.s3a.secret.key": "hunter2"})
        ).session_key
        op = alice_exec.CreateExecution(pb.CreateExecutionRequest(session_key=key, tags=["t"])).execution.operation_id
        own = mallory.CreateSession(pb.CreateSessionRequest(data_source="ds")).session_key

        stops = queue.Queue()
        stop_stream = mallory.GetSessionStopNotification(pb.GetSessionStopNotificationRequest(data_source="ds"))
        def follow_stops():
            try:
                for message in stop_stream:
                    stops.put(message)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.CANCELLED, error

        threading.Thread(target=follow_stops, daemon=True).start()

        before = database_state(token_server.db)
        unknown = str(uuid.uuid4())
        for target in (key, unknown):
            calls = [
                lambda: mallory.GetSessionInfo(pb.GetSessionInfoRequest(session_key=target)),
                lambda: mallory.TouchSession(pb.TouchSessionRequest(session_key=target)),
                lambda: list(mallory.TouchSessions(iter([pb.TouchSessionRequest(session_key=target)]))),
                lambda: mallory.UpdateSessionDetails(pb.UpdateSessionDetailsRequest(session_key=target, details={"x": "y"})),
                lambda: mallory.UpdateSessionConfig(pb.UpdateSessionConfigRequest(session_key=target, config={"a": "b"})),
                lambda: mallory.UpdateSessionIdentifier(pb.UpdateSessionIdentifierRequest(session_key=target, identifier="x")),
                lambda: mallory.EndSession(pb.EndSessionRequest(session_key=target)),
                lambda: mallory.GetSessionTree(pb.GetSessionTreeRequest(session_key=target)),
                lambda: mallory.AssociateSessions(pb.AssociateSessionsRequest(parent_session_key=own, child_session_key=target)),
                lambda: mallory.AssociateSessions(pb.AssociateSessionsRequest(parent_session_key=target, child_session_key=own)),
                lambda: mallory.CreateSession(pb.CreateSessionRequest(data_source="ds", associate_session_keys=[target])),
                lambda: mallory_exec.CreateExecution(pb.CreateExecutionRequest(session_key=target)),
                lambda: mallory_exec.Interrupt(
                    pb.InterruptRequest(session_key=target, interrupt_type=pb.InterruptRequest.INTERRUPT_TYPE_ALL)
                ),
                lambda: mallory_exec.ListExecutions(pb.ListExecutionsRequest(session_key=target)),
                lambda: mallory_exec.AddResource(pb.AddResourceRequest(session_key=target, kind="k", name="n", bytes=1)),
                lambda: mallory_exec.ReleaseSession(pb.ReleaseSessionRequest(session_key=target)),
            ]
            answers = []
            for call in calls:
                error = expect_error(call, grpc.StatusCode.NOT_FOUND, "INVALID_HANDLE.SESSION_NOT_FOUND")
                answers.append(error.details().replace(target, "KEY"))
            if target == key:
                alice_answers = answers
            else:
                assert answers == alice_answers, "another principal's key answers exactly as an unknown key"
        expect_error(
            lambda: mallory_exec.GetExecution(pb.GetExecutionRequest(session_key=key, operation_id=op)),
            grpc.StatusCode.NOT_FOUND,
            "INVALID_HANDLE.SESSION_NOT_FOUND",
        )
        assert database_state(token_server.db) == before

        listed = mallory.GetCurrentSessions(pb.GetCurrentSessionsRequest(data_source="ds"))
        assert [s.session_key for s in listed.sessions] == [own]
        logged = list(mallory.StreamEvents(pb.StreamEventsRequest(after_seq=0)))
        assert logged and key not in {e.session_key for e in logged} and {e.user_id for e in logged} == {"mallory"}
        active = mallory_exec.ListActiveExecutions(pb.ListActiveExecutionsRequest())
        assert op not in {e.operation_id for e in active.executions}

        alice.EndSession(pb.EndSessionRequest(session_key=key))
        mallory.EndSession(pb.EndSessionRequest(session_key=own))
        assert stops.get(timeout=30).session_key == own
        stop_stream.cancel()
        assert stops.empty()


def test_token_file_readable_by_others_is_refused(tmp_path):
    path = token_file(tmp_path, mode=0o644)
    result = subprocess.run(
        [sessionctl_path(), "serve", "--db", str(tmp_path / "s.sqlite"), "--listen", "127.0.0.1:0", "--auth", "token", "--token-file", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "readable by group or others" in result.stderr


def test_non_loopback_listen_needs_authentication(tmp_path):
    result = subprocess.run(
        [sessionctl_path(), "serve", "--db", str(tmp_path / "s.sqlite"), "--listen", "0.0.0.0:0"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "not a loopback address" in result.stderr
    assert not (tmp_path / "s.sqlite").exists(), "refused before the store is opened"


# --- TLS ---------------------------------------------------------------------------------


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=Test CA", cwd=d)
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "server.ext", cwd=d)
    for name in ("alice", "mallory"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/O=Clients/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", f"{name}.pem", "-days", "1", cwd=d)
    return d


def credentials(pki, client=None):
    root = (pki / "ca.pem").read_bytes()
    if client is None:
        return grpc.ssl_channel_credentials(root_certificates=root)
    return grpc.ssl_channel_credentials(
        root_certificates=root, private_key=(pki / f"{client}.key").read_bytes(), certificate_chain=(pki / f"{client}.pem").read_bytes()
    )


def test_tls_with_tokens(tmp_path, certificates):
    server = Server(
        tmp_path,
        args=["--auth", "token", "--token-file", str(token_file(tmp_path)),
              "--tls-cert", str(certificates / "server.pem"), "--tls-key", str(certificates / "server.key")],
    )
    try:
        with server.channel(credentials=credentials(certificates), token="alice-token-0123456789") as channel:
            created = rpc.SessionManagementStub(channel).CreateSession(pb.CreateSessionRequest())
            assert created.session.user_id == "alice"
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            assert status.status == health_pb2.HealthCheckResponse.SERVING
        with server.channel() as plaintext:
            with pytest.raises(grpc.RpcError) as caught:
                rpc.SessionManagementStub(plaintext).CreateSession(pb.CreateSessionRequest(), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        assert server.stop() == 0


def test_mutual_tls_takes_the_principal_from_the_client_certificate(tmp_path, certificates):
    server = Server(
        tmp_path,
        args=["--auth", "cert", "--tls-cert", str(certificates / "server.pem"), "--tls-key", str(certificates / "server.key"),
              "--tls-client-ca", str(certificates / "ca.pem")],
    )
    try:
        with server.channel(credentials=credentials(certificates, "alice")) as channel:
            alice = rpc.SessionManagementStub(channel)
            key = alice.CreateSession(pb.CreateSessionRequest()).session_key
            assert alice.GetSessionInfo(pb.GetSessionInfoRequest(session_key=key)).session.user_id == "alice"
        with server.channel(credentials=credentials(certificates, "mallory")) as channel:
            expect_error(
                lambda: rpc.SessionManagementStub(channel).GetSessionInfo(pb.GetSessionInfoRequest(session_key=key)),
                grpc.StatusCode.NOT_FOUND,
                "INVALID_HANDLE.SESSION_NOT_FOUND",
            )
        with server.channel(credentials=credentials(certificates)) as channel:
            with pytest.raises(grpc.RpcError) as caught:
                rpc.SessionManagementStub(channel).CreateSession(pb.CreateSessionRequest(), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, "no client certificate: the handshake fails"
    finally:
        assert server.stop() == 0
