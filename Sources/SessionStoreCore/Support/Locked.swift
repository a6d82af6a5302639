import Synchronization

/// A `Mutex` in a class, so a copyable value can share it.
final class Locked<Value>: Sendable {
    let mutex: Mutex<Value>

    init(_ value: sending Value) {
        mutex = Mutex(value)
    }
}
