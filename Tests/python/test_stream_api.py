"""The Stream API's walkthrough, over the real server: create sessions with details and
associates, update details, read info and the current sessions, follow start and stop
notifications filtered by data source, end sessions."""
import queue
import threading
import time
import uuid

import grpc
from google.protobuf import duration_pb2

from conftest import pb, rpc, expect_error, database_state

DS = "DataSource"


def create(sessions, identifier, data_source=DS, associates=(), user="ada", **fields):
    request = pb.CreateSessionRequest(
        data_source=data_source,
        type="Session",
        version=1,
        utc_offset=duration_pb2.Duration(seconds=0),
        identifier=identifier,
        details={"track": "Silverstone Circuit", "weather": "dry", "temperature": "22°C"},
        associate_session_keys=list(associates),
        user_id=user,
        **fields,
    )
    return sessions.CreateSession(request)


def follow(stream, into):
    def run():
        try:
            for message in stream:
                into.put(message)
        except grpc.RpcError as error:
            into.put(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_walkthrough(sessions):
    associate = create(sessions, "associate_session")
    assert associate.created and associate.session_key == associate.session.session_key
    assert associate.session.state == pb.SESSION_STATE_IDLE
    assert associate.session.details["temperature"] == "22°C"

    parent = create(sessions, "main_session", associates=[associate.session_key])
    assert list(parent.session.child_session_keys) == [associate.session_key]

    updated = sessions.UpdateSessionDetails(
        pb.UpdateSessionDetailsRequest(
            session_key=parent.session_key, details={"status": "active", "lap_count": "15"}, remove=["weather"]
        )
    )
    assert updated.session.details["lap_count"] == "15"
    assert "weather" not in updated.session.details

    info = sessions.GetSessionInfo(pb.GetSessionInfoRequest(session_key=associate.session_key)).session
    assert list(info.parent_session_keys) == [parent.session_key]
    assert info.identifier == "associate_session"
    assert info.user_id == "ada" and info.data_source == DS

    current = sessions.GetCurrentSessions(pb.GetCurrentSessionsRequest(data_source=DS, user_id="ada"))
    assert [s.session_key for s in current.sessions] == [associate.session_key, parent.session_key]
    first = sessions.GetCurrentSessions(pb.GetCurrentSessionsRequest(data_source=DS, user_id="ada", page_size=1))
    assert [s.session_key for s in first.sessions] == [associate.session_key]
    second = sessions.GetCurrentSessions(
        pb.GetCurrentSessionsRequest(data_source=DS, user_id="ada", page_size=1, page_token=first.next_page_token)
    )
    assert [s.session_key for s in second.sessions] == [parent.session_key]

    tree = sessions.GetSessionTree(pb.GetSessionTreeRequest(session_key=parent.session_key))
    assert [n.session_key for n in tree.nodes] == [parent.session_key, associate.session_key]
    assert [(e.parent_session_key, e.child_session_key) for e in tree.edges] == [(parent.session_key, associate.session_key)]

    ended = sessions.EndSession(pb.EndSessionRequest(session_key=parent.session_key, data_source=DS))
    assert ended.ended_by_this_call and ended.session.state == pb.SESSION_STATE_CLOSED
    again = sessions.EndSession(pb.EndSessionRequest(session_key=parent.session_key))
    assert not again.ended_by_this_call
    current = sessions.GetCurrentSessions(pb.GetCurrentSessionsRequest(data_source=DS, user_id="ada"))
    assert [s.session_key for s in current.sessions] == [associate.session_key]


def established(stream_queue, make_probe, timeout=30):
    """Probes until a probe's notification arrives, so the stream is known to be open:
    a stream has no history, so what happened before it was established never comes."""
    deadline = time.monotonic() + timeout
    probes = []
    while time.monotonic() < deadline:
        probes.append(make_probe())
        try:
            message = stream_queue.get(timeout=0.5)
        except queue.Empty:
            continue
        assert message.session_key in probes
        # Let the notifications of the other probes arrive, then drop them.
        time.sleep(0.5)
        while not stream_queue.empty():
            assert stream_queue.get().session_key in probes
        return
    raise AssertionError("the stream was not established")


def test_notifications_are_filtered_by_data_source_and_have_no_history(sessions):
    before = create(sessions, "before the stream")
    starts, stops = queue.Queue(), queue.Queue()
    start_stream = sessions.GetSessionStartNotification(pb.GetSessionStartNotificationRequest(data_source=DS))
    stop_stream = sessions.GetSessionStopNotification(pb.GetSessionStopNotificationRequest(data_source=DS))
    follow(start_stream, starts)
    follow(stop_stream, stops)
    established(starts, lambda: create(sessions, "probe").session_key)
    established(stops, lambda: sessions.EndSession(pb.EndSessionRequest(session_key=create(sessions, "probe").session_key)).session.session_key)
    while not starts.empty():
        starts.get()

    other = create(sessions, "elsewhere", data_source="Other")
    mine = create(sessions, "mine")
    assert starts.get(timeout=30).session_key == mine.session_key
    sessions.EndSession(pb.EndSessionRequest(session_key=other.session_key))
    sessions.EndSession(pb.EndSessionRequest(session_key=mine.session_key, reason="race over"))
    stop = stops.get(timeout=30)
    assert (stop.session_key, stop.data_source, stop.end_state, stop.reason) == (
        mine.session_key,
        DS,
        pb.SESSION_STATE_CLOSED,
        "race over",
    )
    start_stream.cancel()
    stop_stream.cancel()
    # The session opened before the streams never came, nor anything of "Other".
    leftovers = []
    while True:
        try:
            leftovers.append(starts.get(timeout=2))
        except queue.Empty:
            break
    assert all(isinstance(item, grpc.RpcError) for item in leftovers), leftovers
    assert before.session_key != mine.session_key


def test_a_stream_that_reads_nothing_blocks_no_writer_and_loses_nothing(sessions):
    """A subscriber that stops reading while megabytes of notifications are due holds up
    neither the writers nor another subscriber, and once it reads again it gets every
    notification, in order: the server never buffers more than a bounded amount for it
    and reads the rest from the log."""
    source = "slow-reader"
    request = pb.GetSessionStopNotificationRequest(data_source=source)
    fast, slow = queue.Queue(), queue.Queue()
    follow(sessions.GetSessionStopNotification(request), fast)
    gate = threading.Event()

    def read_one_then_wait():
        try:
            for index, message in enumerate(sessions.GetSessionStopNotification(request)):
                slow.put(message)
                if index == 0:
                    gate.wait()
        except grpc.RpcError as error:
            slow.put(error)

    threading.Thread(target=read_one_then_wait, daemon=True).start()
    probes = []

    def probe():
        key = create(sessions, "probe", data_source=source).session_key
        probes.append(key)
        sessions.EndSession(pb.EndSessionRequest(session_key=key))
        return key

    established(fast, probe)
    # The slow stream may open after the probes that established the fast one (its thread
    # starts late on a loaded machine): probe until it has read its one message too.
    deadline = time.monotonic() + 30
    while slow.empty() and time.monotonic() < deadline:
        probe()
        time.sleep(0.2)
    assert slow.get(timeout=1).session_key in probes

    reason = "r" * 16_000
    count = 1500  # 24 MB of notifications: past any HTTP/2 window and the store's buffer
    ended = []
    for index in range(count):
        key = create(sessions, f"s{index}", data_source=source).session_key
        sessions.EndSession(pb.EndSessionRequest(session_key=key, reason=reason), timeout=10)
        ended.append(key)

    def drain(into, want):
        got = []
        deadline = time.monotonic() + 120
        while len(got) < want and time.monotonic() < deadline:
            message = into.get(timeout=max(0.1, deadline - time.monotonic()))
            assert not isinstance(message, grpc.RpcError), message
            if message.session_key not in probes:
                got.append(message)
        return got

    fast_got = drain(fast, count)
    assert [m.session_key for m in fast_got] == ended
    assert all(m.reason == reason for m in fast_got)
    gate.set()
    slow_got = drain(slow, count)
    assert [m.session_key for m in slow_got] == ended
    seqs = [m.seq for m in slow_got]
    assert seqs == sorted(set(seqs))


def test_touch_says_whether_the_session_is_live(sessions):
    created = create(sessions, "pinged")
    touched = sessions.TouchSession(pb.TouchSessionRequest(session_key=created.session_key))
    assert touched.live and touched.result == pb.TouchSessionResponse.RESULT_LIVE
    sessions.EndSession(pb.EndSessionRequest(session_key=created.session_key))
    touched = sessions.TouchSession(pb.TouchSessionRequest(session_key=created.session_key))
    assert not touched.live and touched.result == pb.TouchSessionResponse.RESULT_CLOSED


def test_touch_sessions_answers_each_ping_in_order_over_one_call(server, sessions):
    live = create(sessions, "pinged-live")
    ended = create(sessions, "pinged-ended")
    sessions.EndSession(pb.EndSessionRequest(session_key=ended.session_key))
    keys = [live.session_key, ended.session_key] * 50
    answers = list(sessions.TouchSessions(iter(pb.TouchSessionRequest(session_key=k) for k in keys)))
    assert [a.result for a in answers] == [pb.TouchSessionResponse.RESULT_LIVE, pb.TouchSessionResponse.RESULT_CLOSED] * 50
    assert [a.live for a in answers] == [True, False] * 50
    before = database_state(server.db)
    unknown = str(uuid.uuid4())
    answered = []

    def ping_then_unknown():
        for message in sessions.TouchSessions(
            iter([pb.TouchSessionRequest(session_key=ended.session_key), pb.TouchSessionRequest(session_key=unknown)])
        ):
            answered.append(message)

    error = expect_error(ping_then_unknown, grpc.StatusCode.NOT_FOUND, "INVALID_HANDLE.SESSION_NOT_FOUND")
    assert unknown[:8] in error.details()
    assert [a.result for a in answered] == [pb.TouchSessionResponse.RESULT_CLOSED]
    assert database_state(server.db) == before


def test_identifier_config_and_reconnect(sessions):
    created = create(sessions, "first", session_id="client-1", timeout=duration_pb2.Duration(seconds=600))
    assert created.session.timeout.seconds == 600
    renamed = sessions.UpdateSessionIdentifier(pb.UpdateSessionIdentifierRequest(session_key=created.session_key, identifier="second"))
    assert renamed.session.identifier == "second"
    cleared = sessions.UpdateSessionIdentifier(pb.UpdateSessionIdentifierRequest(session_key=created.session_key))
    assert not cleared.session.HasField("identifier")
    changed = sessions.UpdateSessionConfig(
        pb.UpdateSessionConfigRequest(session_key=created.session_key, config={"spark.sql.shuffle.partitions": "8"})
    )
    assert list(changed.changed) == ["spark.sql.shuffle.partitions"]
    again = create(sessions, "ignored", session_id="client-1", reconnect=True)
    assert not again.created and again.session_key == created.session_key
    assert "identifier" in again.ignored_fields


def test_event_log_and_durable_subscription(sessions):
    created = create(sessions, "logged")
    sessions.UpdateSessionDetails(pb.UpdateSessionDetailsRequest(session_key=created.session_key, details={"lap": "1"}))
    logged = list(sessions.StreamEvents(pb.StreamEventsRequest(after_seq=0, kinds=["session.details_updated"])))
    assert [(e.kind, e.session_key) for e in logged] == [("session.details_updated", created.session_key)]
    assert logged[0].payload

    pending = list(sessions.StreamEvents(pb.StreamEventsRequest(subscription="dashboard")))
    assert created.session_key in {e.session_key for e in pending}
    sessions.AcknowledgeEvents(pb.AcknowledgeEventsRequest(subscription="dashboard", through_seq=pending[-1].seq))
    assert list(sessions.StreamEvents(pb.StreamEventsRequest(subscription="dashboard"))) == []
    sessions.EndSession(pb.EndSessionRequest(session_key=created.session_key))
    later = list(sessions.StreamEvents(pb.StreamEventsRequest(subscription="dashboard")))
    assert [e.kind for e in later] == ["session.ended"]
