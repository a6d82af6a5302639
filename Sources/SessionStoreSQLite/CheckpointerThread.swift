import CSQLite
import Foundation

/// Copies the WAL back into the database file on a connection and thread of its own, so
/// a commit does not wait for a checkpoint.
///
/// SQLite's automatic checkpoint runs inside the `COMMIT` that takes the WAL past 1,000
/// pages: the writer, and every caller waiting on its batch, stalls while pages are
/// copied to their places in the file and synced. Here the writer's commits only report
/// the WAL's size (``walGrew(to:)``, from SQLite's WAL hook) and this thread runs a
/// `PASSIVE` checkpoint, which waits for nobody, beside the writer.
///
/// A passive checkpoint can fall behind a busy writer, and SQLite starts the WAL over
/// only once it has been copied whole: a writer that never pauses would grow the WAL
/// without end while background checkpoints chase it. So when the WAL reaches
/// ``writerCheckpointFrames`` the writer waits for a background checkpoint in progress to
/// end and copies the rest itself, as SQLite's own checkpoint would have; the next write
/// then starts the WAL over.
final class CheckpointerThread: StoppableThreads, @unchecked Sendable {
    /// WAL size, in frames, at which the background checkpoint starts: SQLite's default
    /// automatic checkpoint threshold.
    static let backgroundCheckpointFrames = 1_000
    /// WAL size at which the writer checkpoints in its own commit.
    static let writerCheckpointFrames = 4_000

    let exit = ThreadExit(count: 1)
    let condition = NSCondition()
    // Guarded by `condition`.
    private var isRequested = false
    private var isCheckpointing = false
    private var writerIsCheckpointing = false
    var isShuttingDown = false
    private var completed = 0

    /// Background checkpoints run so far.
    var completedCheckpoints: Int {
        condition.lock()
        defer { condition.unlock() }
        return completed
    }

    /// Starts the thread; its connection is opened by `open` on first use.
    func start(name: String, open: @escaping @Sendable () throws -> Database) {
        startThread(named: name) { [self] in
            loop(open: open)
            exit.threadEnded()
        }
    }

    /// Called on the writer's thread after each commit with the WAL's size in frames.
    /// Returns whether the writer should checkpoint itself, in which case no background
    /// checkpoint is running or starts until ``writerCheckpointEnded()``.
    func walGrew(to frames: Int) -> Bool {
        guard frames >= Self.backgroundCheckpointFrames else { return false }
        condition.lock()
        defer { condition.unlock() }
        if frames >= Self.writerCheckpointFrames {
            writerIsCheckpointing = true
            while isCheckpointing {
                condition.wait()
            }
            return true
        }
        if !isRequested && !isShuttingDown {
            isRequested = true
            condition.broadcast()
        }
        return false
    }

    /// The writer's own checkpoint is over; background checkpoints may run again.
    func writerCheckpointEnded() {
        condition.lock()
        writerIsCheckpointing = false
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for a request the writer is not checkpointing over; false on shutdown. On
    /// true the caller is checkpointing and must call ``backgroundCheckpointEnded()``.
    private func nextRequest() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while (!isRequested || writerIsCheckpointing) && !isShuttingDown {
            condition.wait()
        }
        isRequested = false
        isCheckpointing = !isShuttingDown
        return isCheckpointing
    }

    private func backgroundCheckpointEnded() {
        condition.lock()
        isCheckpointing = false
        completed += 1
        condition.broadcast()
        condition.unlock()
    }

    private func loop(open: () throws -> Database) {
        var database: Database?
        while nextRequest() {
            do {
                let connection = try database ?? open()
                database = connection
                // A busy result (another process is checkpointing) and I/O errors alike
                // leave the WAL as it is: the next request, or the writer at its limit,
                // tries again.
                _ = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            } catch {
                // Could not open a connection: the writer's own checkpoint at its limit
                // still bounds the WAL.
            }
            backgroundCheckpointEnded()
        }
    }
}

extension Database {
    /// Replaces SQLite's automatic checkpoint on this connection by `checkpointer`: after
    /// each commit it hears the WAL's size, and the connection checkpoints itself only
    /// when the checkpointer says so.
    func hand(checkpointsTo checkpointer: CheckpointerThread) {
        walHookTarget = checkpointer
        let context = Unmanaged.passUnretained(checkpointer).toOpaque()
        sqlite3_wal_hook(handle, { context, handle, _, frames in
            guard let context else { return SQLITE_OK }
            let checkpointer = Unmanaged<CheckpointerThread>.fromOpaque(context).takeUnretainedValue()
            if checkpointer.walGrew(to: Int(frames)) {
                // What SQLite's own hook does; an error here must not fail the commit,
                // which has already happened.
                _ = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                checkpointer.writerCheckpointEnded()
            }
            return SQLITE_OK
        }, context)
    }
}
