#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Log lines on standard error in upstream mkosi's style: `‣ message`, coloured by level when
/// standard error is a terminal.
///
/// The level comes from `SYSTEMD_LOG_LEVEL` (debug, info, warning, error) and `--debug`.
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
        if let sink {
            sink.lines.withLock { $0.append(message) }
            return
        }
        guard level >= state.withLock({ $0.threshold }) else { return }
        let color: String
        switch level {
        case .debug: color = Terminal.gray
        case .info: color = ""
        case .warning: color = Terminal.yellow
        case .error: color = Terminal.red
        }
        let reset = color.isEmpty ? "" : Terminal.reset
        Terminal.writeStderr("‣ \(color)\(message)\(reset)\n")
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

    public static var gray: String { colors ? "\u{1B}[0;38;5;245m" : "" }
    public static var yellow: String { colors ? "\u{1B}[0;33m" : "" }
    public static var red: String { colors ? "\u{1B}[31;1m" : "" }
    public static var reset: String { colors ? "\u{1B}[0m" : "" }

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
