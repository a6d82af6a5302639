"""Errors over the wire: each answer carries the fitting gRPC status, the store's stable
code in the `sessionstore-error-code` trailer and its message; a refused call leaves the
database exactly as it was."""
import uuid

import grpc
import pytest
from google.protobuf import duration_pb2

from conftest import Server, pb, rpc, expect_error, database_state

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
def opened(sessions):
    return sessions.CreateSession(pb.CreateSessionRequest(user_id="ada", data_source="errors")).session_key


def test_unknown_and_malformed_keys(server, sessions, executions, opened):
    before = database_state(server.db)
    unknown = str(uuid.uuid4())
    error = expect_error(
        lambda: sessions.GetSessionInfo(pb.GetSessionInfoRequest(session_key=unknown)),
        grpc.StatusCode.NOT_FOUND,
        "INVALID_HANDLE.SESSION_NOT_FOUND",
    )
    assert unknown[:8] in error.details()
    for key in ["", "not-a-key", "'; DROP TABLE sessions; --", "\x1b]0;x\x07", "k" * 100_000]:
        expect_error(lambda: sessions.TouchSession(pb.TouchSessionRequest(session_key=key)), INVALID, "INVALID_HANDLE.FORMAT")
    expect_error(
        lambda: executions.GetExecution(pb.GetExecutionRequest(session_key=opened, operation_id=str(uuid.uuid4()))),
        grpc.StatusCode.NOT_FOUND,
        "INVALID_HANDLE.OPERATION_NOT_FOUND",
    )
    assert database_state(server.db) == before


def test_bad_fields_are_refused_and_change_nothing(server, sessions, opened):
    before = database_state(server.db)
    cases = [
        (pb.CreateSessionRequest(user_id="ada", data_source="bad\x00source"), "INVALID_ARGUMENT.DATA_SOURCE"),
        (pb.CreateSessionRequest(user_id=""), "INVALID_ARGUMENT.USER_ID"),
        (pb.CreateSessionRequest(user_id="ada", details={"k": "v" * 1_000_000}), "INVALID_ARGUMENT.DETAIL_VALUE"),
        (pb.CreateSessionRequest(user_id="ada", version=-1), "INVALID_ARGUMENT.VERSION"),
        (pb.CreateSessionRequest(user_id="ada", utc_offset=duration_pb2.Duration(seconds=19 * 3600)), "INVALID_ARGUMENT.UTC_OFFSET"),
        (pb.CreateSessionRequest(user_id="ada", utc_offset=duration_pb2.Duration(seconds=0, nanos=5)), "INVALID_ARGUMENT.UTC_OFFSET"),
        (pb.CreateSessionRequest(user_id="ada", timeout=duration_pb2.Duration(seconds=5, nanos=-1)), "INVALID_ARGUMENT.TIMEOUT"),
        (pb.CreateSessionRequest(user_id="ada", timeout=duration_pb2.Duration(seconds=-5)), "INVALID_ARGUMENT.TIMEOUT"),
        (pb.CreateSessionRequest(user_id="ada", associate_session_keys=[str(uuid.uuid4())]), "INVALID_HANDLE.SESSION_NOT_FOUND"),
    ]
    for request, code in cases:
        status = grpc.StatusCode.NOT_FOUND if code.endswith("NOT_FOUND") else INVALID
        expect_error(lambda: sessions.CreateSession(request), status, code)
    expect_error(
        lambda: sessions.GetCurrentSessions(pb.GetCurrentSessionsRequest(user_id="ada", page_size=-1)), INVALID, "INVALID_ARGUMENT.LIMIT"
    )
    expect_error(
        lambda: sessions.GetCurrentSessions(pb.GetCurrentSessionsRequest(user_id="ada", page_size=2_000_000_000)),
        INVALID,
        "INVALID_ARGUMENT.LIMIT",
    )
    expect_error(
        lambda: sessions.UpdateSessionConfig(pb.UpdateSessionConfigRequest(session_key=opened, config={"": "x"})),
        INVALID,
        "INVALID_ARGUMENT.CONFIG_NAME",
    )
    assert database_state(server.db) == before


def test_wrong_state(sessions, executions, opened):
    op = executions.CreateExecution(pb.CreateExecutionRequest(session_key=opened)).execution.operation_id
    expect_error(
        lambda: executions.SetExecutionStatus(
            pb.SetExecutionStatusRequest(session_key=opened, operation_id=op, status=pb.EXECUTION_STATUS_CLOSED)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_TRANSITION",
    )
    sessions.EndSession(pb.EndSessionRequest(session_key=opened))
    expect_error(
        lambda: sessions.UpdateSessionDetails(pb.UpdateSessionDetailsRequest(session_key=opened, details={"a": "b"})),
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_HANDLE.SESSION_CLOSED",
    )


def test_limits_answer_resource_exhausted(tmp_path):
    server = Server(tmp_path, args=["--set", "max-sessions-per-user=1"])
    try:
        with server.channel() as channel:
            stub = rpc.SessionManagementStub(channel)
            stub.CreateSession(pb.CreateSessionRequest(user_id="ada"))
            before = database_state(server.db)
            expect_error(
                lambda: stub.CreateSession(pb.CreateSessionRequest(user_id="ada")),
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                "LIMIT_EXCEEDED.SESSIONS_PER_USER",
            )
            after = database_state(server.db)
            # The refusal is recorded as one session.refused event and nothing else.
            log = {"events", "event_totals", "sqlite_sequence"}
            assert {t: rows for t, rows in after.items() if t not in log} == {t: rows for t, rows in before.items() if t not in log}
            assert [row[2] for row in after["events"][len(before["events"]):]] == ["session.refused"]
    finally:
        assert server.stop() == 0
