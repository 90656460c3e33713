#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Log lines on standard error in upstream mkosi's style: `‣ [image] message`, coloured by level
/// when standard error is a terminal. `[image]` names the image being built (`image`), as upstream.
///
/// The level comes from `SYSTEMD_LOG_LEVEL` (debug, info, warning, error) and `--debug`.
///
/// A build runs its steps with `inStep`: the step's title is printed when the step first shows
/// something (its own first info message stands in for the title), and before any tool it runs
/// starts (`announceStep`), so what a tool prints sits below the step that ran it.
public enum Log {
    public enum Level: Int, Sendable, Comparable {
        case debug = 0, info, warning, error

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    private struct State {
        var threshold: Level
        var warnings = 0
        var said: Set<String> = []
    }

    private static let state = Mutex(State(threshold: initialThreshold()))

    /// Collects messages instead of printing them, for `capturing`.
    public final class Sink: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// The sink of the current task, if its log is being captured.
    @TaskLocal public static var sink: Sink?

    /// The image this task is building: every line it logs starts with `[image]`.
    @TaskLocal public static var image: String?

    /// A named step of a build (`Installing packages`), whose title is printed at most once.
    public final class Step: Sendable {
        public let title: String
        let pending = Mutex(true)

        init(_ title: String) { self.title = title }

        /// True the first time only: the title is due now.
        func take() -> Bool { pending.withLock { p in defer { p = false }; return p } }
    }

    /// The step this task is in (`inStep`).
    @TaskLocal public static var step: Step?

    /// Runs `body` as the step titled `title`: the title is printed before the first tool of the
    /// step runs (`announceStep`) or the first warning it logs, and the step's first info message
    /// is printed instead of it (it says better what the step does). A step that shows nothing
    /// prints nothing.
    public static func inStep<T>(_ title: String, _ body: () throws -> T) rethrows -> T {
        try $step.withValue(Step(title), operation: body)
    }

    /// Prints the running step's title unless it has been printed (a tool is about to run).
    public static func announceStep() {
        guard let step, sink != nil || Level.info >= state.withLock({ $0.threshold }), step.take() else { return }
        output(.info, step.title, bold: true)
    }

    /// `Installing packages took 12.3s`: the line ending a step that took a while.
    public static func stepTook(_ title: String, _ seconds: Double) -> String {
        "\(title) took \(formatDuration(seconds))"
    }

    /// `12.3s`, `2m 14s`, `1h 5m 0s`: a duration as a build log shows it.
    public static func formatDuration(_ seconds: Double) -> String {
        if seconds < 59.95 {
            let tenths = Int((max(0, seconds) * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        return h > 0 ? "\(h)h \(m)m \(s)s" : "\(m)m \(s)s"
    }

    /// One log line as printed (with its newline): `‣ `, the image in brackets, the message
    /// coloured for `level` when `colors` is set.
    public static func format(_ level: Level, _ message: String, image: String?, colors: Bool) -> String {
        let color: String
        switch level {
        case .debug: color = colors ? Terminal.grayCode : ""
        case .info: color = ""
        case .warning: color = colors ? Terminal.yellowCode : ""
        case .error: color = colors ? Terminal.redCode : ""
        }
        let reset = color.isEmpty ? "" : Terminal.resetCode
        let prefix = image.map { colors ? "\(Terminal.blueCode)[\($0)]\(Terminal.resetCode) " : "[\($0)] " } ?? ""
        return "‣ \(prefix)\(color)\(message)\(reset)\n"
    }

    private static func initialThreshold() -> Level {
        guard let raw = getenv("SYSTEMD_LOG_LEVEL") else { return .info }
        switch String(cString: raw).lowercased() {
        case "debug": return .debug
        case "warning", "notice": return .warning
        case "err", "error", "crit", "alert", "emerg": return .error
        default: return .info
        }
    }

    public static func setDebug(_ on: Bool) {
        if on { state.withLock { $0.threshold = .debug } }
    }

    public static var isDebug: Bool { state.withLock { $0.threshold == .debug } }

    /// Number of warnings emitted so far.
    public static var warnings: Int { state.withLock { $0.warnings } }

    public static func debug(_ message: @autoclosure () -> String) {
        guard isDebug else { return }
        emit(.debug, message())
    }
    public static func info(_ message: String) { emit(.info, message) }
    public static func warning(_ message: String) {
        state.withLock { $0.warnings += 1 }
        emit(.warning, message)
    }
    /// A warning printed only the first time this process is asked to print it (for messages
    /// about a value that every image of a build shares).
    public static func warningOnce(_ message: String) {
        guard state.withLock({ $0.said.insert(message).inserted }) else { return }
        warning(message)
    }
    public static func error(_ message: String) { emit(.error, message) }

    /// Runs `body` with the log output of this task captured, returning what would have been
    /// printed (at any level).
    public static func capturing<T>(_ body: () throws -> T) rethrows -> (T, [String]) {
        let sink = Sink()
        let result = try $sink.withValue(sink) { try body() }
        return (result, sink.lines.withLock { $0 })
    }

    private static func emit(_ level: Level, _ message: String) {
        guard sink != nil || level >= state.withLock({ $0.threshold }) else { return }
        // A step's first info message says what it does: it stands in for the step's title.
        if let step, step.take(), level != .info { output(.info, step.title, bold: true) }
        output(level, message)
    }

    /// Prints a line, or records it in the task's sink.
    private static func output(_ level: Level, _ message: String, bold: Bool = false) {
        if let sink {
            sink.lines.withLock { $0.append(message) }
            return
        }
        let colors = Terminal.colors
        let text = bold && colors ? "\u{1B}[1m\(message)\(Terminal.resetCode)" : message
        Terminal.writeStderr(format(level, text, image: image, colors: colors))
    }
}

/// ANSI colours, enabled only when standard error is a terminal and TERM is not dumb.
public enum Terminal {
    public static let colors: Bool = {
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        if getenv("NO_COLOR") != nil { return false }
        return isatty(2) != 0
    }()

    /// Colours for standard output (used by summary and cat-config).
    public static let stdoutColors: Bool = {
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        if getenv("NO_COLOR") != nil { return false }
        return isatty(1) != 0
    }()

    static let grayCode = "\u{1B}[0;38;5;245m", yellowCode = "\u{1B}[0;33m", redCode = "\u{1B}[31;1m"
    static let blueCode = "\u{1B}[0;94m", resetCode = "\u{1B}[0m"
    public static var gray: String { colors ? grayCode : "" }
    public static var yellow: String { colors ? yellowCode : "" }
    public static var red: String { colors ? redCode : "" }
    public static var reset: String { colors ? resetCode : "" }

    public static func bold(_ s: String) -> String { stdoutColors ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    public static func blue(_ s: String) -> String { stdoutColors ? "\u{1B}[0;94m\(s)\u{1B}[0m" : s }

    public static func writeStderr(_ s: String) {
        var s = s
        s.withUTF8 { buf in writeAll(2, buf) }
    }

    public static func writeStdout(_ s: String) {
        var s = s
        s.withUTF8 { buf in writeAll(1, buf) }
    }

    /// Writes `bytes` to standard error as they are (tool output, `ToolOutput`).
    public static func writeStderr(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { writeAll(2, $0) }
    }

    private static func writeAll(_ fd: Int32, _ buf: UnsafeBufferPointer<UInt8>) {
        guard var p = buf.baseAddress else { return }
        var left = buf.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            p += n
            left -= n
        }
    }
}
