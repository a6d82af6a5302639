import Foundation
import Synchronization

/// How far long work has got, on one stderr line rewritten in place (`\r`) about every
/// half second: `LABEL  DONE/TOTAL  PERCENT  RATE/s  ELAPSED`. Shown only when stderr is
/// a terminal and the output is not JSON, so a pipe, a file or a JSON reader gets
/// nothing extra. ``finish()`` clears the line.
final class ProgressLine: Sendable {
    /// Whether progress is shown at all: text output, stderr a terminal.
    static func isShown(json: Bool) -> Bool {
        !json && isatty(STDERR_FILENO) == 1
    }

    /// Whether lines made without saying are shown: set once by the command from its
    /// output (``enable(json:)``).
    static var isEnabled: Bool { enabled.load(ordering: .relaxed) }
    private static let enabled = Atomic<Bool>(false)

    /// Shows progress from here on when ``isShown(json:)``.
    static func enable(json: Bool) {
        enabled.store(isShown(json: json), ordering: .relaxed)
    }

    /// How often the line is redrawn.
    static let interval: Duration = .milliseconds(500)

    private let label: String
    private let total: Int
    private let shown: Bool
    private let started = ContinuousClock.now
    private let done = Atomic<Int>(0)
    /// Whether the line is still drawn; guards every write, so none follows ``finish()``.
    private let drawing = Mutex(true)
    private let ticker = Mutex<Task<Void, Never>?>(nil)

    /// The line being drawn now, which an interruption clears before printing.
    private static let active = Mutex<ProgressLine?>(nil)

    /// Progress of `total` steps (0: unknown), drawn when `shown`.
    init(_ label: String, total: Int, shown: Bool = ProgressLine.isEnabled) {
        self.label = label
        self.total = max(0, total)
        self.shown = shown
        guard shown else { return }
        Self.active.withLock { $0 = self }
        ticker.withLock {
            $0 = Task.detached { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.interval)
                    guard let line = self else { return }
                    line.draw()
                }
            }
        }
    }

    /// `count` more steps done.
    func add(_ count: Int = 1) {
        done.add(count, ordering: .relaxed)
    }

    /// `count` steps done in all.
    func set(_ count: Int) {
        done.store(count, ordering: .relaxed)
    }

    /// Stops drawing and clears the line.
    func finish() {
        guard shown else { return }
        ticker.withLock { $0?.cancel() }
        let wasDrawing = drawing.withLock { drawing in
            defer { drawing = false }
            return drawing
        }
        if wasDrawing { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        Self.active.withLock { if $0 === self { $0 = nil } }
    }

    /// Clears the line being drawn, if any, before something else is printed.
    static func clearActive() {
        active.withLock { $0 }?.finish()
    }

    /// The line as it stands now.
    var text: String {
        let count = done.load(ordering: .relaxed)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Int((Double(count) / seconds).rounded()) : 0
        var parts = [label]
        if total > 0 {
            parts.append("\(count)/\(total)")
            parts.append("\(min(100, count * 100 / total))%")
        } else {
            parts.append("\(count)")
        }
        parts.append("\(rate)/s")
        parts.append("\(Int(seconds))s")
        return parts.joined(separator: "  ")
    }

    private func draw() {
        drawing.withLock { drawing in
            guard drawing else { return }
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        }
    }
}
