import Foundation

/// Starts a thread called `name` running `body`. The name is set from inside as well, so
/// the kernel's thread name (`top -H`, `perf`) shows it, not only Foundation's.
func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
        Thread.current.name = name
        body()
    }
    thread.name = name
    thread.start()
}
