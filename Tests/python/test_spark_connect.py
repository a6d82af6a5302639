"""Spark Connect's execution walkthrough over the real server: executions with operation
ids and tags, status changes, reattach after the client disconnects, interrupt by tag,
id and all, release, streaming queries, owned resources, ReleaseSession."""
import queue
import threading
import time
import uuid

import grpc

from conftest import pb, expect_error

S = pb  # message namespace


def open_session(sessions, user="spark"):
    return sessions.CreateSession(pb.CreateSessionRequest(user_id=user, session_id=str(uuid.uuid4()), data_source="spark")).session_key


def status(executions, key, op):
    return executions.GetExecution(pb.GetExecutionRequest(session_key=key, operation_id=op)).execution


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_execution_lifecycle_interrupt_by_tag_and_release(sessions, executions):
    key = open_session(sessions)
    tagged = executions.CreateExecution(pb.CreateExecutionRequest(session_key=key, tags=["etl"], statement="SELECT 1")).execution
    other = executions.CreateExecution(pb.CreateExecutionRequest(session_key=key, tags=["adhoc"])).execution
    assert tagged.status == pb.EXECUTION_STATUS_PENDING and tagged.attached
    assert uuid.UUID(tagged.operation_id)
    for op in (tagged.operation_id, other.operation_id):
        moved = executions.SetExecutionStatus(
            pb.SetExecutionStatusRequest(session_key=key, operation_id=op, status=pb.EXECUTION_STATUS_STARTED)
        ).execution
        assert moved.status == pb.EXECUTION_STATUS_STARTED
    active = executions.ListActiveExecutions(pb.ListActiveExecutionsRequest())
    assert {e.operation_id for e in active.executions} >= {tagged.operation_id, other.operation_id}

    interrupted = executions.Interrupt(
        pb.InterruptRequest(session_key=key, interrupt_type=pb.InterruptRequest.INTERRUPT_TYPE_TAG, operation_tag="etl")
    )
    assert list(interrupted.interrupted_ids) == [tagged.operation_id]
    assert status(executions, key, tagged.operation_id).status == pb.EXECUTION_STATUS_CANCELED
    assert status(executions, key, other.operation_id).status == pb.EXECUTION_STATUS_STARTED

    released = executions.ReleaseExecute(pb.ReleaseExecuteRequest(session_key=key, operation_id=other.operation_id)).execution
    assert released.status == pb.EXECUTION_STATUS_CLOSED and released.HasField("closed_at")
    listed = executions.ListExecutions(pb.ListExecutionsRequest(session_key=key)).executions
    assert {(e.operation_id, e.status) for e in listed} == {
        (tagged.operation_id, pb.EXECUTION_STATUS_CANCELED),
        (other.operation_id, pb.EXECUTION_STATUS_CLOSED),
    }


def test_interrupt_all_and_by_operation_id(sessions, executions):
    key = open_session(sessions)
    ops = []
    for _ in range(3):
        op = executions.CreateExecution(pb.CreateExecutionRequest(session_key=key)).execution.operation_id
        executions.SetExecutionStatus(pb.SetExecutionStatusRequest(session_key=key, operation_id=op, status=pb.EXECUTION_STATUS_STARTED))
        ops.append(op)
    one = executions.Interrupt(
        pb.InterruptRequest(session_key=key, interrupt_type=pb.InterruptRequest.INTERRUPT_TYPE_OPERATION_ID, operation_id=ops[0])
    )
    assert list(one.interrupted_ids) == [ops[0]]
    rest = executions.Interrupt(pb.InterruptRequest(session_key=key, interrupt_type=pb.InterruptRequest.INTERRUPT_TYPE_ALL))
    assert sorted(rest.interrupted_ids) == sorted(ops[1:])
    expect_error(
        lambda: executions.Interrupt(pb.InterruptRequest(session_key=key, interrupt_type=pb.InterruptRequest.INTERRUPT_TYPE_TAG)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT.REQUEST",
    )


def test_reattach_after_the_client_disconnects(server, sessions, executions):
    key = open_session(sessions)
    op = executions.CreateExecution(pb.CreateExecutionRequest(session_key=key, reattachable=True)).execution.operation_id
    executions.SetExecutionStatus(pb.SetExecutionStatusRequest(session_key=key, operation_id=op, status=pb.EXECUTION_STATUS_STARTED))
    executions.DetachExecution(pb.DetachExecutionRequest(session_key=key, operation_id=op))
    assert not status(executions, key, op).attached

    # A client attaches, then goes away without a word: the server detaches it.
    with server.channel() as channel:
        stub = type(executions)(channel)
        stream = stub.ReattachExecution(pb.ReattachExecutionRequest(session_key=key, operation_id=op))
        first = next(stream)
        assert first.execution.attached and first.execution.status == pb.EXECUTION_STATUS_STARTED
    wait_for(lambda: not status(executions, key, op).attached)

    # A new client reattaches and follows the execution to its end.
    received = queue.Queue()
    stream = executions.ReattachExecution(pb.ReattachExecutionRequest(session_key=key, operation_id=op))

    def read():
        for message in stream:
            received.put(message.execution)
        received.put(None)

    threading.Thread(target=read, daemon=True).start()
    assert received.get(timeout=30).attached
    executions.SetExecutionStatus(pb.SetExecutionStatusRequest(session_key=key, operation_id=op, status=pb.EXECUTION_STATUS_FINISHED))
    last = received.get(timeout=30)
    assert last.status == pb.EXECUTION_STATUS_FINISHED
    assert received.get(timeout=30) is None, "the stream ends once the execution finished"


def test_reattach_refuses_an_execution_not_created_reattachable(sessions, executions):
    key = open_session(sessions)
    op = executions.CreateExecution(pb.CreateExecutionRequest(session_key=key)).execution.operation_id
    executions.DetachExecution(pb.DetachExecutionRequest(session_key=key, operation_id=op))
    expect_error(
        lambda: next(executions.ReattachExecution(pb.ReattachExecutionRequest(session_key=key, operation_id=op))),
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_HANDLE.OPERATION_NOT_REATTACHABLE",
    )


def test_streaming_queries_and_resources_end_with_the_session(sessions, executions):
    key = open_session(sessions)
    query = executions.RegisterStreamingQuery(
        pb.RegisterStreamingQueryRequest(session_key=key, query_id="q1", run_id="r1", name="counts", tags=["etl"])
    ).query
    assert query.state == pb.StreamingQuery.STATE_ACTIVE
    executions.RegisterStreamingQuery(pb.RegisterStreamingQueryRequest(session_key=key, query_id="q2", run_id="r1"))
    stopped = executions.StopStreamingQuery(pb.StopStreamingQueryRequest(session_key=key, query_id="q2", reason="done")).query
    assert stopped.state == pb.StreamingQuery.STATE_STOPPED and stopped.stop_reason == "done"
    active = executions.ListStreamingQueries(pb.ListStreamingQueriesRequest(session_key=key, active_only=True)).queries
    assert [q.query_id for q in active] == ["q1"]

    executions.AddResource(pb.AddResourceRequest(session_key=key, kind="artifact", name="a.jar", bytes=1024))
    executions.AddResource(pb.AddResourceRequest(session_key=key, kind="artifact", name="b.jar", bytes=2048))
    released = executions.ReleaseResource(pb.ReleaseResourceRequest(session_key=key, kind="artifact", name="a.jar")).resource
    assert released.bytes == 1024
    left = executions.ListResources(pb.ListResourcesRequest(session_key=key)).resources
    assert [(r.kind, r.name, r.bytes) for r in left] == [("artifact", "b.jar", 2048)]
    expect_error(
        lambda: executions.AddResource(pb.AddResourceRequest(session_key=key, kind="artifact", name="c.jar", bytes=-1)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT.BYTES",
    )

    session = executions.ReleaseSession(pb.ReleaseSessionRequest(session_key=key, allow_reconnect=True)).session
    assert session.state == pb.SESSION_STATE_CLOSED and session.end_reason == "released by client"
    assert executions.ListResources(pb.ListResourcesRequest(session_key=key)).resources == []
    queries = executions.ListStreamingQueries(pb.ListStreamingQueriesRequest(session_key=key)).queries
    assert {q.state for q in queries} == {pb.StreamingQuery.STATE_STOPPED}
