import Foundation

/// The built `mkosi` and a way to run commands, for tests that run the binary.
public enum Binary {
    /// The built `mkosi` next to the test bundle (`swift test` builds products first).
    public static func locate() -> String {
        if let override = ProcessInfo.processInfo.environment["MKOSI_BINARY"] { return override }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The test bundle may be a directory (…/X.xctest/…) on some toolchains.
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("mkosi").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("mkosi").path
    }

}

/// Runs a command and collects its output.
public enum Shell {
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    @discardableResult
    public static func run(_ argv: [String], cwd: String? = nil, environment: [String: String]? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
        p.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A command running in the background whose standard error can be watched while it runs.
public final class Running: @unchecked Sendable {
    let process = Process()
    let lock = NSLock()
    var collected = Data()
    var reader: Thread?

    public init(_ argv: [String], cwd: String? = nil, environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        if let environment { process.environment = environment }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let handle = err.fileHandleForReading
        let t = Thread { [self] in
            while true {
                let d = handle.availableData
                if d.isEmpty { break }
                lock.lock()
                collected.append(d)
                lock.unlock()
            }
        }
        reader = t
        t.start()
    }

    public var pid: Int32 { process.processIdentifier }

    /// Standard error so far.
    public var stderr: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// Waits until standard error contains `text`; false after `timeout` seconds or when the
    /// process ended without printing it.
    public func waitFor(_ text: String, timeout: TimeInterval) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(50_000)
        }
        return false
    }

    /// Waits for the process to end and returns its exit status.
    public func wait() -> Int32 {
        process.waitUntilExit()
        while reader?.isFinished == false { usleep(1000) }
        return process.terminationStatus
    }
}
