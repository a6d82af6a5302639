#if canImport(Glibc)
import Glibc

private let openFiles = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#elseif canImport(Darwin)
import Darwin

private let openFiles = RLIMIT_NOFILE
#endif

/// The process's limit on open files, raised from the usual soft limit (often 1,024) to
/// the hard limit: a server's connections, its database file and its log each take a
/// descriptor, and the soft limit is a default for interactive shells, not a choice.
enum OpenFileLimit {
    /// Raises the soft limit to the hard one; returns the limit in force afterwards, or
    /// `nil` when it cannot be read.
    @discardableResult
    static func raise() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(openFiles, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(openFiles, &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }
}
