"""ZooKeeper's touchTable for a SessionStore client: a service that holds many client
sessions records each touch as its requests arrive and renews them all with one
TouchSessionBatch per interval, instead of one call per request.

The interval must be well under the smallest session timeout (a third of it, as
ZooKeeper's clients ping), so a session touched just after a flush is still renewed
before it is due.

    coalescer = TouchCoalescer(stub, interval=1.0, on_gone=forget_session)
    coalescer.start()
    ...
    coalescer.touched(session_key)      # on every request: no call, no wait
    ...
    coalescer.stop()                    # flushes what is pending
"""
import threading

from sessionstore.v1 import sessionstore_pb2 as pb

MAX_BATCH = 1000


class TouchCoalescer:
    def __init__(self, stub, interval, on_gone=None, timeout=10.0):
        self.stub = stub
        self.interval = interval
        self.on_gone = on_gone
        self.timeout = timeout
        self._pending = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.batches_sent = 0

    def touched(self, session_key):
        """Records a touch; sent with the next batch (once, however often it is touched)."""
        with self._lock:
            self._pending.add(session_key)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stopped.set()
        self._thread.join()
        self.flush()

    def flush(self):
        """Sends what is pending, up to 1,000 keys a batch; returns the answers."""
        with self._lock:
            keys, self._pending = list(self._pending), set()
        answers = []
        for start in range(0, len(keys), MAX_BATCH):
            response = self.stub.TouchSessionBatch(
                pb.TouchSessionBatchRequest(session_keys=keys[start:start + MAX_BATCH]), timeout=self.timeout)
            self.batches_sent += 1
            answers.extend(response.results)
        if self.on_gone:
            for answer in answers:
                if answer.result != pb.SessionTouch.RESULT_LIVE:
                    self.on_gone(answer)
        return answers

    def _run(self):
        while not self._stopped.wait(self.interval):
            self.flush()
