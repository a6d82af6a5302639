"""The response budget over the real server: a list response stops at about 3 MiB of
serialized items, below the 4 MiB a gRPC client receives by default, and says where it
stopped (the next page token, a truncated flag, or the `sessionstore-truncated` trailer);
one item larger than the budget is still sent, alone in its page."""
import threading
import time

import grpc

from conftest import pb

MiB = 1024 * 1024
BUDGET = 3 * MiB
CLIENT_LIMIT = 4 * MiB  # what grpcio receives by default
VALUE_BYTES = 65_536  # the store's default max-value-bytes
TRUNCATED_KEY = "sessionstore-truncated"


def big_details(tag, count=2):
    """`count` details of the largest value the store takes by default."""
    return {f"blob-{tag}-{index}": chr(ord("a") + index % 26) * VALUE_BYTES for index in range(count)}


def open_big_sessions(sessions, data_source, count=60, details=2):
    keys = []
    for index in range(count):
        response = sessions.CreateSession(
            pb.CreateSessionRequest(data_source=data_source, user_id="ada", details=big_details(index, details))
        )
        keys.append(response.session_key)
    return keys


def all_pages(sessions, data_source, page_size=10_000):
    """Every page of GetCurrentSessions, following next_page_token to the end."""
    pages, token = [], ""
    while True:
        page = sessions.GetCurrentSessions(
            pb.GetCurrentSessionsRequest(data_source=data_source, page_size=page_size, page_token=token)
        )
        pages.append(page)
        token = page.next_page_token
        if not token:
            return pages
        assert len(pages) < 1000, "paging does not end"


def trailer(call, key):
    for name, value in call.trailing_metadata() or ():
        if name == key:
            return value
    return None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_current_sessions_page_within_budget_and_continue_to_every_session(sessions):
    keys = open_big_sessions(sessions, "budget")
    expected_details = {key: big_details(index) for index, key in enumerate(keys)}
    pages = all_pages(sessions, "budget")

    # Over 7 MiB of sessions: more than one page, each under the client's limit.
    assert len(pages) >= 3, [len(page.sessions) for page in pages]
    for page in pages:
        assert page.ByteSize() < CLIENT_LIMIT
        assert page.ByteSize() <= BUDGET + 4096
        assert page.sessions, "a page must move on"
    seen = [session.session_key for page in pages for session in page.sessions]
    assert len(seen) == len(set(seen)), "a session was sent twice"
    assert seen == keys  # oldest first, each once
    for page in pages:
        for session in page.sessions:
            assert dict(session.details) == expected_details[session.session_key]


def test_one_session_larger_than_the_budget_is_sent_alone(sessions):
    small_before = sessions.CreateSession(pb.CreateSessionRequest(data_source="alone", user_id="ada")).session_key
    # 52 values of 64 KiB: about 3.3 MiB, over the budget and under the client's limit;
    # set in two calls to stay under the server's request limit.
    big = sessions.CreateSession(pb.CreateSessionRequest(data_source="alone", user_id="ada")).session_key
    for part in range(2):
        details = {f"part{part}-{index}": "z" * VALUE_BYTES for index in range(26)}
        sessions.UpdateSessionDetails(pb.UpdateSessionDetailsRequest(session_key=big, details=details))
    small_after = sessions.CreateSession(pb.CreateSessionRequest(data_source="alone", user_id="ada")).session_key

    pages = all_pages(sessions, "alone")
    assert [[session.session_key for session in page.sessions] for page in pages] == [[small_before], [big], [small_after]]
    assert pages[1].ByteSize() > BUDGET
    assert len(pages[1].sessions[0].details) == 52


def test_server_memory_across_20_full_page_calls(server, sessions):
    open_big_sessions(sessions, "memory")
    pid = server.process.pid
    before = rss_kib(pid)
    peak, stop = [before], threading.Event()

    def sample():
        while not stop.is_set():
            peak.append(rss_kib(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        for _ in range(20):
            page = sessions.GetCurrentSessions(pb.GetCurrentSessionsRequest(data_source="memory", page_size=10_000))
            assert page.next_page_token and page.ByteSize() < CLIENT_LIMIT
    finally:
        stop.set()
        sampler.join()
    time.sleep(0.5)
    after = rss_kib(pid)
    during = max(peak)
    print(f"\nserver VmRSS: before {before / 1024:.1f} MiB, during (peak) {during / 1024:.1f} MiB, after {after / 1024:.1f} MiB")
    # Generous: one call holds about one page (3 MiB) plus one read step of sessions.
    assert during - before < 200 * 1024, (before, during, after)


def test_list_executions_cut_with_trailer_and_active_executions_truncated(sessions, executions):
    key = sessions.CreateSession(pb.CreateSessionRequest(user_id="ada")).session_key
    statement = "SELECT '" + "s" * 1_000_000 + "'"  # under max-payload-bytes (1 MiB)
    created = [
        executions.CreateExecution(pb.CreateExecutionRequest(session_key=key, statement=statement)).execution.operation_id
        for _ in range(5)
    ]

    listed, call = executions.ListExecutions.with_call(pb.ListExecutionsRequest(session_key=key))
    assert listed.ByteSize() <= BUDGET + 4096
    assert [execution.operation_id for execution in listed.executions] == created[:3]
    assert all(execution.statement == statement for execution in listed.executions)
    assert trailer(call, TRUNCATED_KEY) == "true"

    active = executions.ListActiveExecutions(pb.ListActiveExecutionsRequest(limit=100))
    assert [execution.operation_id for execution in active.executions] == created[:3]
    assert active.truncated

    # Within the budget: every item, no trailer, not truncated.
    small = sessions.CreateSession(pb.CreateSessionRequest(user_id="bob")).session_key
    only = executions.CreateExecution(pb.CreateExecutionRequest(session_key=small, statement="SELECT 1")).execution
    listed, call = executions.ListExecutions.with_call(pb.ListExecutionsRequest(session_key=small))
    assert [execution.operation_id for execution in listed.executions] == [only.operation_id]
    assert trailer(call, TRUNCATED_KEY) is None


def test_list_streaming_queries_cut_with_trailer(sessions, executions):
    key = sessions.CreateSession(pb.CreateSessionRequest(user_id="ada")).session_key
    # 64 tags of 1,000 bytes (max-tags-per-execution, under max-id-bytes): about 64 KiB a
    # query, 60 of them about 3.8 MiB.
    registered = []
    for index in range(60):
        tags = [f"{index:03d}-{tag:02d}-" + "t" * 993 for tag in range(64)]
        query = executions.RegisterStreamingQuery(
            pb.RegisterStreamingQueryRequest(session_key=key, query_id=f"q{index:03d}", run_id="r", tags=tags)
        ).query
        registered.append(query.query_id)
    listed, call = executions.ListStreamingQueries.with_call(pb.ListStreamingQueriesRequest(session_key=key))
    assert listed.ByteSize() <= BUDGET + 4096
    sent = [query.query_id for query in listed.queries]
    assert 40 < len(sent) < len(registered)
    assert len(set(sent)) == len(sent) and set(sent) <= set(registered)
    assert all(len(query.tags) == 64 for query in listed.queries)  # whole queries only
    assert trailer(call, TRUNCATED_KEY) == "true"


def test_session_tree_cut_at_budget_is_marked_truncated(sessions):
    root = sessions.CreateSession(pb.CreateSessionRequest(user_id="ada", details=big_details("root"))).session_key
    children = []
    for index in range(40):
        child = sessions.CreateSession(pb.CreateSessionRequest(user_id="ada", details=big_details(index))).session_key
        sessions.AssociateSessions(pb.AssociateSessionsRequest(parent_session_key=root, child_session_key=child))
        children.append(child)

    tree = sessions.GetSessionTree(pb.GetSessionTreeRequest(session_key=root))
    assert tree.truncated
    assert tree.ByteSize() <= BUDGET + 4096
    sent = [node.session_key for node in tree.nodes]
    assert sent[0] == root and 1 < len(sent) < 41
    assert set(sent[1:]) <= set(children)
    assert all(edge.parent_session_key in sent and edge.child_session_key in sent for edge in tree.edges)
    assert len(tree.edges) == len(sent) - 1
