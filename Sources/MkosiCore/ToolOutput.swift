#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// What becomes of the output (standard output and error) of the tools `HostCommand` runs.
///
/// A build shows only what a failing tool printed, in full, below the step that ran it; the
/// user's own scripts are shown as they run; `--debug` shows everything. Outside a build tools
/// write to mkosi's streams directly.
public enum ToolOutput: Sendable, Equatable {
    /// The tool writes to mkosi's standard output and error itself.
    case inherit
    /// Both streams go to mkosi's standard error as they come: on a terminal directly, elsewhere
    /// through a `ProgressFilter`.
    case shown
    /// Both streams are kept (filtered) while the tool runs and written to standard error only
    /// if it fails.
    case onFailure

    /// The policy of this task (set by the build for each image).
    @TaskLocal public static var current: ToolOutput = .inherit

    /// Runs `body` with tool output shown as it comes, unless tools write directly anyway (for
    /// the user's scripts, whose output is theirs to see).
    @discardableResult
    public static func showing<T>(_ body: () throws -> T) rethrows -> T {
        guard current == .onFailure else { return try body() }
        return try $current.withValue(.shown, operation: body)
    }

    /// Whether a tool's output goes through mkosi (a pipe) rather than straight to its streams.
    var isRouted: Bool {
        switch self {
        case .inherit: return false
        case .shown: return isatty(2) == 0
        case .onFailure: return true
        }
    }

    /// Where routed output goes: filtered, then to standard error (`shown`) or kept (`onFailure`).
    struct Router {
        let mode: ToolOutput
        var filter = ProgressFilter()
        var kept: [UInt8] = []
        /// What a failing tool printed is shown in full, up to this much (its last bytes).
        static let keptLimit = 64 << 20

        init(_ mode: ToolOutput) { self.mode = mode }

        mutating func take(_ bytes: ArraySlice<UInt8>) { put(filter.feed(bytes)) }

        /// Flushes a last unterminated line; a failed tool's kept output is written out.
        mutating func finish(failed: Bool) {
            put(filter.finish())
            if mode == .onFailure && failed && !kept.isEmpty { Terminal.writeStderr(bytes: kept) }
            kept = []
        }

        private mutating func put(_ bytes: [UInt8]) {
            guard !bytes.isEmpty else { return }
            if mode == .shown { return Terminal.writeStderr(bytes: bytes) }
            kept += bytes
            if kept.count > Self.keptLimit { kept.removeFirst(kept.count - Self.keptLimit) }
        }
    }

    /// Reads `fds` until each reaches end of file, handing what comes to `handler` with the
    /// index of its descriptor. Returns early once mkosi is interrupted (the caller then waits
    /// for the child, which got the signal).
    static func pump(_ fds: [Int32], _ handler: (Int, ArraySlice<UInt8>) -> Void) {
        var polled = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var open = fds.count
        var chunk = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            let r = poll(&polled, nfds_t(polled.count), -1)
            if r < 0 {
                if errno == EINTR && mkosi_interrupted() == 0 { continue }
                return
            }
            for i in polled.indices where polled[i].fd >= 0 && polled[i].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(polled[i].fd, $0.baseAddress, 65536) }
                if n < 0 && errno == EINTR {
                    if mkosi_interrupted() != 0 { return }
                    continue
                }
                if n <= 0 {
                    polled[i].fd = -1
                    open -= 1
                    continue
                }
                handler(i, chunk[0..<n])
            }
        }
    }
}

/// Makes tool output written for a terminal fit for a log file: of a line that redraws itself
/// with carriage returns (progress bars), only the last drawing is kept, so no `\r` passes.
/// Everything else passes unchanged, line by line.
public struct ProgressFilter: Sendable {
    private var partial: [UInt8] = []
    /// A line redrawn for this long without a newline is cut to its last drawing as it goes.
    static let partialLimit = 1 << 16

    public init() {}

    /// The complete lines `bytes` ends, filtered; the rest waits for its newline.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes {
            if b == UInt8(ascii: "\n") {
                out += Self.lastDrawing(partial[...])
                out.append(b)
                partial.removeAll(keepingCapacity: true)
            } else {
                partial.append(b)
            }
        }
        if partial.count > Self.partialLimit {
            let kept = Self.lastDrawing(partial[...])
            let trailing = partial.reversed().prefix { $0 == UInt8(ascii: "\r") }.count
            partial = Array(kept) + [UInt8](repeating: UInt8(ascii: "\r"), count: trailing)
        }
        return out
    }

    /// What is left of an unterminated last line, filtered and ended with a newline.
    public mutating func finish() -> [UInt8] {
        defer { partial = [] }
        let last = Self.lastDrawing(partial[...])
        return last.isEmpty ? [] : Array(last) + [UInt8(ascii: "\n")]
    }

    /// The text after a line's last carriage return, ignoring carriage returns that end it
    /// (`text\r\n`, or a progress bar's final `\r`).
    static func lastDrawing(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        while line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard let i = line.lastIndex(of: UInt8(ascii: "\r")) else { return line }
        return line[(i + 1)...]
    }

    /// `text` filtered as a whole (for tests and short outputs).
    public static func filter(_ text: String) -> String {
        var f = ProgressFilter()
        let out = f.feed(Array(text.utf8)) + f.finish()
        return String(decoding: out, as: UTF8.self)
    }
}
