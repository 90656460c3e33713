/// The one error type of mkosi.
///
/// Library code throws it; only the entry point prints it and exits. The message names the
/// inputs that are wrong (file and line, setting, command); the hint says what to do about it.
public struct MkosiError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// A configuration file or value is invalid. Exit status 1.
        case config
        /// The command line could not be parsed. Exit status 2, with a usage line.
        case usage
        /// A host tool failed or could not be started. Exit status 1 (or the tool's status).
        case command(status: Int32)
        /// A system call failed.
        case system(errno: Int32)
        /// A verb that is recognised but not implemented yet.
        case unsupported
        /// SIGINT, SIGTERM or SIGHUP arrived (Ctrl-C): the work was stopped and cleaned up.
        /// Exit status 130. Never given a hint about whatever step it interrupted.
        case interrupted(signal: Int32)
        /// Anything else.
        case failed
    }

    public var code: Code
    public var message: String
    public var hint: String?
    /// Where in the configuration the error is, if it comes from a file ("path:line").
    public var location: String?

    public init(_ code: Code, _ message: String, hint: String? = nil, location: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
        self.location = location
    }

    /// A configuration error, optionally located at `path:line`.
    public static func config(_ message: String, hint: String? = nil, location: String? = nil) -> MkosiError {
        MkosiError(.config, message, hint: hint, location: location)
    }

    public static func usage(_ message: String, hint: String? = nil) -> MkosiError {
        MkosiError(.usage, message, hint: hint)
    }

    /// The exit status the entry point uses for this error.
    public var exitStatus: Int32 {
        switch code {
        case .usage: return 2
        case .interrupted: return 130
        case .command(let status): return status > 0 && status < 256 ? status : 1
        default: return 1
        }
    }

    public var description: String {
        if let location, !message.hasPrefix(location) {
            return "\(location): \(message)"
        }
        return message
    }

    /// Whether this is an interruption rather than a failure (callers must not dress it up
    /// with the hints of the step it happened in).
    public var isInterruption: Bool { if case .interrupted = code { return true } else { return false } }

    /// Returns a copy located at `location` unless it already has a location.
    public func located(at location: String) -> MkosiError {
        var copy = self
        if copy.location == nil { copy.location = location }
        return copy
    }
}
