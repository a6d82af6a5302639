import ChildProcess
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `posix_spawn` launcher the tests and `sessionctl` start processes with.
@Suite("ChildProcess")
struct ChildProcessTests {
    @Test func exitStatusAndOutputThroughAPipe() throws {
        let child = try ChildProcess.spawn("/bin/sh", ["-c", "printf 'one\\ntwo\\n'; exit 3"], output: .pipe)
        let output = child.readOutput()
        if let descriptor = child.outputDescriptor { close(descriptor) }
        #expect(String(decoding: output, as: UTF8.self) == "one\ntwo\n")
        #expect(child.wait() == ChildProcess.Termination(reason: .exit, status: 3))
        // Reaped once; asking again gives the same answer.
        #expect(child.termination() == ChildProcess.Termination(reason: .exit, status: 3))
    }

    @Test func outputAndErrorThroughPipesOfTheirOwn() throws {
        let child = try ChildProcess.spawn("/bin/sh", ["-c", "echo out; echo err >&2"], output: .pipe, error: .pipe)
        let output = child.readOutput()
        let error = child.readError()
        for descriptor in [child.outputDescriptor, child.errorDescriptor].compactMap({ $0 }) { close(descriptor) }
        #expect(String(decoding: output, as: UTF8.self) == "out\n")
        #expect(String(decoding: error, as: UTF8.self) == "err\n")
        #expect(child.wait().status == 0)
    }

    @Test func aKilledChildReportsItsSignal() throws {
        let child = try ChildProcess.spawn("/bin/sleep", ["30"])
        #expect(child.termination() == nil)
        #expect(child.kill(SIGKILL))
        #expect(child.wait() == ChildProcess.Termination(reason: .uncaughtSignal, status: SIGKILL))
        #expect(kill(child.pid, 0) == -1 && errno == ESRCH)
    }

    @Test func environmentAndFileRedirection() throws {
        let directory = TemporaryDirectory()
        let out = directory.path("out")
        let child = try ChildProcess.spawn(
            "/bin/sh", ["-c", "echo \"$GREETING\"; echo oops >&2"], environment: ["GREETING": "hello"],
            output: .file(out), error: .null)
        #expect(child.wait().status == 0)
        #expect(String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self) == "hello\n")
    }

    @Test func aMissingExecutableIsATypedError() {
        #expect {
            _ = try ChildProcess.spawn("/nonexistent/sessionctl", [])
        } throws: { error in
            (error as? ChildProcess.SpawnError)?.code == ENOENT
        }
    }

    /// The pipe's write end reaches only the child it was made for: a second child
    /// started meanwhile does not hold it open after the first has exited.
    @Test func anotherChildDoesNotInheritThePipe() throws {
        let first = try ChildProcess.spawn("/bin/sh", ["-c", "echo first"], output: .pipe)
        let second = try ChildProcess.spawn("/bin/sleep", ["30"])
        defer {
            second.kill(SIGKILL)
            _ = second.wait()
        }
        // Reading to the end returns once `first` exits, though `sleep` still runs.
        let output = first.readOutput()
        if let descriptor = first.outputDescriptor { close(descriptor) }
        #expect(String(decoding: output, as: UTF8.self) == "first\n")
        #expect(first.wait().status == 0)
    }
}
