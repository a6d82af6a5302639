"""Batched touches (ZooKeeper's followers send the sessions their clients touched once
per tick): TouchSessionBatch and TouchSessions with session_keys, many keys in one
message, each answered in order in one storage round."""
import sqlite3
import time
import uuid

import grpc
from google.protobuf import duration_pb2

from conftest import Server, pb, rpc, database_state, expect_error
from test_auth import token_file, stubs

ALICE = "alice-token-0123456789"
MALLORY = "mallory-token-0123456789"
R = pb.SessionTouch


def open_sessions(sessions, count, timeout_s=None, user=None):
    keys = []
    for _ in range(count):
        request = pb.CreateSessionRequest(data_source="fleet", user_id=user or "")
        if timeout_s is not None:
            request.timeout.CopyFrom(duration_pb2.Duration(seconds=timeout_s))
        keys.append(sessions.CreateSession(request).session_key)
    return keys


def rows(db):
    return {row[1]: row for row in database_state(db)["sessions"]}


def test_a_thousand_mixed_keys_are_answered_in_order_and_only_moved_buckets_are_written(tmp_path):
    server = Server(tmp_path, args=["--auth", "token", "--token-file", str(token_file(tmp_path))])
    try:
        _, alice, _ = stubs(server, ALICE)
        _, mallory, _ = stubs(server, MALLORY)
        moving = open_sessions(alice, 200, timeout_s=600)
        expiring = open_sessions(alice, 100, timeout_s=1)
        closed = open_sessions(alice, 100, timeout_s=600)
        for key in closed:
            alice.EndSession(pb.EndSessionRequest(session_key=key))
        foreign = open_sessions(mallory, 100, timeout_s=600)
        # Past the 1 s sessions' expiry (no sweeper has ended them: they are expired all
        # the same) and into a later tick for the 600 s ones.
        time.sleep(2.5)
        fresh = open_sessions(alice, 200, timeout_s=600)
        unknown = [str(uuid.uuid4()) for _ in range(100)]
        malformed = ["", "not-a-key", "x" * 300, "'; DROP TABLE sessions; --", "\x01\x02", "0190", "-1", "１２３"] * 25

        groups = [(moving, R.RESULT_LIVE), (expiring, R.RESULT_EXPIRED), (closed, R.RESULT_CLOSED),
                  (foreign, R.RESULT_NOT_FOUND), (fresh, R.RESULT_LIVE), (unknown, R.RESULT_NOT_FOUND),
                  (malformed[:200], R.RESULT_INVALID)]
        keys, expected = [], []
        # Interleaved, so order is checked across kinds.
        for index in range(200):
            for group, result in groups:
                if index < len(group):
                    keys.append(group[index])
                    expected.append(result)
        assert len(keys) == 1000
        before = rows(server.db)
        answer = alice.TouchSessionBatch(pb.TouchSessionBatchRequest(session_keys=keys), timeout=30)
        assert [r.session_key for r in answer.results] == keys
        assert [r.result for r in answer.results] == expected
        for r in answer.results:
            if r.result == R.RESULT_LIVE:
                assert r.HasField("expire_at")
            elif r.result == R.RESULT_NOT_FOUND:
                assert r.error_code == "INVALID_HANDLE.SESSION_NOT_FOUND"
            elif r.result == R.RESULT_INVALID:
                assert r.error_code == "INVALID_HANDLE.FORMAT"
        after = rows(server.db)
        changed = {key for key in before if before[key] != after[key]}
        # Only live sessions whose bucket moved changed: all those opened before the wait,
        # and of those opened just before the batch only any whose tick has passed since.
        assert set(moving) <= changed <= set(moving) | set(fresh)
        columns = [row[0] for row in sqlite3.connect(server.db).execute("SELECT * FROM sessions LIMIT 0").description]
        expire = columns.index("expire_at")
        assert all(after[key][expire] > before[key][expire] for key in changed)
        assert set(after) == set(before)
        # Another principal's sessions answer as unknown keys do, and are untouched.
        assert all(before[k] == after[k] for k in foreign)
    finally:
        assert server.stop() == 0, server.log_text()


def test_batches_over_one_touch_sessions_call_and_the_limit(server, sessions):
    live = open_sessions(sessions, 3, timeout_s=600, user="ada")
    ended = open_sessions(sessions, 1, timeout_s=600, user="ada")
    sessions.EndSession(pb.EndSessionRequest(session_key=ended[0]))
    unknown = str(uuid.uuid4())
    requests = [
        pb.TouchSessionRequest(session_keys=live + ended + [unknown]),
        pb.TouchSessionRequest(session_key=live[0]),  # an older single-key ping, unchanged
        pb.TouchSessionRequest(session_keys=[unknown, live[1]]),
    ]
    answers = list(sessions.TouchSessions(iter(requests)))
    assert [r.result for r in answers[0].results] == [R.RESULT_LIVE] * 3 + [R.RESULT_CLOSED, R.RESULT_NOT_FOUND]
    assert answers[1].result == pb.TouchSessionResponse.RESULT_LIVE and answers[1].live and not answers[1].results
    assert [r.result for r in answers[2].results] == [R.RESULT_NOT_FOUND, R.RESULT_LIVE]

    before = database_state(server.db)
    expect_error(lambda: sessions.TouchSessionBatch(pb.TouchSessionBatchRequest(session_keys=live * 334)),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT.LIMIT")
    expect_error(lambda: list(sessions.TouchSessions(iter([pb.TouchSessionRequest(session_key=live[0], session_keys=live)]))),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT.REQUEST")
    assert database_state(server.db) == before
    assert sessions.TouchSessionBatch(pb.TouchSessionBatchRequest()).results == []


def test_a_coalescing_client_renews_many_sessions_with_one_call_per_interval(server, sessions):
    from touch_coalescer import TouchCoalescer

    keys = open_sessions(sessions, 50, timeout_s=3, user="ada")
    ended = open_sessions(sessions, 1, timeout_s=3, user="ada")[0]
    sessions.EndSession(pb.EndSessionRequest(session_key=ended))
    gone = []
    coalescer = TouchCoalescer(sessions, interval=0.5, on_gone=gone.append)
    coalescer.start()
    try:
        # Requests touch the sessions many times for longer than their timeout.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for key in keys + [ended]:
                coalescer.touched(key)
            time.sleep(0.05)
    finally:
        coalescer.stop()
    # Every session outlived its 3 s timeout, renewed by about one call per interval.
    answers = [sessions.TouchSession(pb.TouchSessionRequest(session_key=key)) for key in keys]
    assert all(a.live for a in answers)
    assert 5 <= coalescer.batches_sent <= 15, coalescer.batches_sent
    assert gone and all(a.session_key == ended and a.result == R.RESULT_CLOSED for a in gone)
