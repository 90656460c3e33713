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
