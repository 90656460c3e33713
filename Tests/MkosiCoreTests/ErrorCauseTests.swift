import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MkosiCore
import Testing

/// Errors keep what went wrong underneath them: the command as the user reads it and its
/// status, the system call and its errno, or the error they wrap.
@Suite struct ErrorCauseTests {
    /// The error `body` throws, or nil (a foreign error is recorded as an issue).
    func mkosiError(_ body: () throws -> Void) -> MkosiError? {
        do {
            try body()
        } catch let error as MkosiError {
            return error
        } catch {
            Issue.record("not a MkosiError: \(error)")
        }
        return nil
    }

    /// The argv and status of a `.command` cause, nil for any other.
    func command(_ cause: MkosiError.Cause?) -> ([String], Int32)? {
        if case .command(let argv, let status)? = cause { return (argv, status) }
        return nil
    }

    @Test func aFailedCommandCarriesItsDisplayedLineAndStatus() throws {
        let display = ["mkosi-tool", "--flag", "two words"]
        for call in [{ try HostCommand.run(["sh", "-c", "exit 3"], display: display) },
                     { try HostCommand.capture(["sh", "-c", "exit 3"], display: display) }] as [() throws -> Void] {
            let error = try #require(mkosiError(call))
            #expect(error.code == .command(status: 3))
            let cause = try #require(command(error.cause))
            #expect(cause.0 == display && cause.1 == 3)
            #expect(error.cause?.description == "mkosi-tool --flag 'two words' exited with status 3")
        }
        // Without a display, the command itself is named.
        let plain = try #require(mkosiError { try HostCommand.run(["sh", "-c", "exit 5"]) })
        #expect(command(plain.cause).map { $0.0 } == ["sh", "-c", "exit 5"])
        #expect(plain.exitStatus == 5)
    }

    @Test func aProgramThatCannotBeStartedIsStatus127() throws {
        let missing = "/nonexistent/mkosi-no-such-program"
        for call in [{ try HostCommand.run([missing, "a"], display: ["shown", "a"]) },
                     { try HostCommand.capture([missing, "a"], display: ["shown", "a"]) }] as [() throws -> Void] {
            let error = try #require(mkosiError(call))
            #expect(error.code == .command(status: 127))
            let cause = try #require(command(error.cause))
            #expect(cause.0 == ["shown", "a"] && cause.1 == 127)
            #expect(error.cause?.description == "shown a could not be started")
        }
    }

    @Test func aFailedSystemCallCarriesItsErrno() throws {
        let path = "/nonexistent/mkosi-no-such-file"
        let error = try #require(mkosiError { _ = try FS.readBytes(path) })
        #expect(error.code == .system(errno: ENOENT))
        guard case .system(let call, let code)? = error.cause else {
            Issue.record("cause is \(String(describing: error.cause))")
            return
        }
        #expect(call == "Cannot open \(path)" && code == ENOENT)
        #expect(error.cause?.description == "Cannot open \(path): No such file or directory (errno \(ENOENT))")

        errno = EACCES
        let direct = FS.systemError("Cannot frob x")
        #expect(direct.code == .system(errno: EACCES) && direct.message == "Cannot frob x: Permission denied")
        if case .system(let call, let code)? = direct.cause { #expect(call == "Cannot frob x" && code == EACCES) } else {
            Issue.record("cause is \(String(describing: direct.cause))")
        }
    }

    @Test func causeOfKeepsACommandsOwnCauseAndWrapsOtherErrors() throws {
        let failed = try #require(mkosiError { try HostCommand.run(["sh", "-c", "exit 7"], display: ["tool"]) })
        let kept = MkosiError.cause(of: failed)
        #expect(command(kept).map { $0.0 } == ["tool"] && command(kept).map { $0.1 } == 7)

        errno = ENOSPC
        if case .system(let call, let code) = MkosiError.cause(of: FS.systemError("write x")) {
            #expect(call == "write x" && code == ENOSPC)
        } else {
            Issue.record("a system error's own cause is not kept")
        }

        let config = MkosiError.config("Bad value", location: "mkosi.conf:3")
        guard case .error(let wrapped) = MkosiError.cause(of: config) else {
            Issue.record("a configuration error is not wrapped")
            return
        }
        #expect(wrapped.code == .config && wrapped.description == "mkosi.conf:3: Bad value")

        // A command error made without a cause is wrapped whole rather than lost.
        if case .error(let e) = MkosiError.cause(of: MkosiError(.command(status: 2), "x failed")) {
            #expect(e.message == "x failed")
        } else {
            Issue.record("a command error without a cause is lost")
        }

        struct Foreign: Error, CustomStringConvertible { var description: String { "foreign trouble" } }
        if case .other(let text) = MkosiError.cause(of: Foreign()) { #expect(text == "foreign trouble") } else {
            Issue.record("a foreign error is not described")
        }

        // A wrapped error is described with its own cause.
        let inner = MkosiError(.invalidData, "inner", cause: .other("deep"))
        #expect(MkosiError.cause(of: inner).description == "inner (deep)")
    }

    @Test func invalidJSONIsInvalidData() throws {
        let error = try #require(mkosiError { _ = try JSON.parse("{\"a\": }") })
        #expect(error.code == .invalidData)
        #expect(error.message.hasPrefix("Invalid JSON at offset"))
    }

    /// A background process's exit status is there once it exited (a helper daemon that dies
    /// before it is ready is reported with it), and nil while it runs.
    @Test func aBackgroundProcessGivesItsExitStatus() throws {
        let exiting = try HostCommand.start(["sh", "-c", "exit 3"])
        var status: Int32? = nil
        for _ in 0..<200 where status == nil {
            status = exiting.exitStatus()
            if status == nil { usleep(10_000) }
        }
        #expect(status == 3)
        let running = try HostCommand.start(["sleep", "30"])
        #expect(running.exitStatus() == nil)
        running.stop()
    }
}
