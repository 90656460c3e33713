#if canImport(Glibc)
import Glibc
#endif

/// The one error type of mkosi.
///
/// Library code throws it; only the entry point prints it and exits. The message names the
/// inputs that are wrong (file and line, setting, command); the hint says what to do about it;
/// the cause, when there is one, is what went wrong underneath (the failed command and its
/// status, the system call and its errno, or the error this one wraps).
///
/// The code is what a caller can act on: it says whether the user must change the
/// configuration, build something first, install a tool, use another host, or wait.
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
        /// What was asked cannot be done with this image or configuration (a format a verb does
        /// not take, a combination of settings no monitor offers).
        case unsupported
        /// An output this needs (the image, the tools tree, a kernel beside the image) has not
        /// been built yet: building it (`mkosi build`, or `-f`) is the remedy.
        case notBuilt
        /// A tool, firmware or data file the configuration needs is not installed, in the tools
        /// tree or on the host: installing it (or `ToolsTree=default`) is the remedy.
        case missingTool
        /// This host lacks a capability a setting insists on (KVM, vsock, machined, root
        /// privileges): another setting value or another host is the remedy.
        case hostUnsupported
        /// Something is in use by someone else (a running machine of the same name, a vsock
        /// connection ID, a lock): waiting or choosing another name is the remedy.
        case busy
        /// A file or a tool's output does not have the content it must (a partition table, a
        /// JSON document, a checksum): the input, not mkosi's configuration, is wrong.
        case invalidData
        /// SIGINT, SIGTERM or SIGHUP arrived (Ctrl-C): the work was stopped and cleaned up.
        /// Exit status 130. Never given a hint about whatever step it interrupted.
        case interrupted(signal: Int32)
    }

    /// What went wrong underneath an error: kept so that `--debug` (and a caller) can see it
    /// even where the message says it in words.
    public indirect enum Cause: Sendable, CustomStringConvertible {
        /// A command (as the user would read it, not the sandbox helper's line) that exited with
        /// `status` (128 + the signal when killed; 127 when it could not be started).
        case command([String], status: Int32)
        /// A system call (or the operation it served) that failed with `errno`.
        case system(String, errno: Int32)
        /// Another of mkosi's errors this one explains.
        case error(MkosiError)
        /// A foreign error, as it describes itself.
        case other(String)

        public var description: String {
            switch self {
            case .command(let argv, let status):
                let line = argv.map(ShellLexer.quote).joined(separator: " ")
                return status == 127 ? "\(line) could not be started" : "\(line) exited with status \(status)"
            case .system(let call, let errno): return "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
            case .error(let error): return error.description + (error.cause.map { " (\($0))" } ?? "")
            case .other(let text): return text
            }
        }
    }

    public var code: Code
    public var message: String
    public var hint: String?
    /// Where in the configuration the error is, if it comes from a file ("path:line").
    public var location: String?
    /// What went wrong underneath, if anything did.
    public var cause: Cause?

    public init(_ code: Code, _ message: String, hint: String? = nil, location: String? = nil, cause: Cause? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
        self.location = location
        self.cause = cause
    }

    /// `error` as a cause: a command's or a system call's own cause is kept as it is, any other
    /// error is wrapped whole.
    public static func cause(of error: any Error) -> Cause {
        guard let error = error as? MkosiError else { return .other(String(describing: error)) }
        switch error.code {
        case .command, .system: return error.cause ?? .error(error)
        default: return .error(error)
        }
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
