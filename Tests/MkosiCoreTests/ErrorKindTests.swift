import Foundation
import Testing

/// The catch-all error kind is gone: every error says what the user can do about it.
@Suite struct ErrorKindTests {
    /// Files (or, ending in "/", directories) still being rewritten elsewhere that may throw the
    /// catch-all kind for now. To be emptied, and `MkosiError.Code.failed` removed, once they
    /// no longer do.
    static let pending: [String] = [
        "MkosiVM/",
        "MkosiCommands/ShellCommand.swift",
        "MkosiCommands/VMCommand.swift",
    ]

    static func isPending(_ file: String) -> Bool {
        pending.contains { $0.hasSuffix("/") ? file.hasPrefix($0) : file == $0 }
    }

    @Test func noSourceThrowsTheCatchAllKind() throws {
        var sources = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { sources.deleteLastPathComponent() }
        sources.appendPathComponent("Sources")
        let files = try FileManager.default.subpathsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50, "the source tree was not found at \(sources.path)")
        var offenders: [String] = []
        for file in files.sorted() where !Self.isPending(file) {
            let text = try String(contentsOfFile: sources.appendingPathComponent(file).path, encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("MkosiError(.failed") {
                offenders.append("Sources/\(file):\(n + 1)")
            }
        }
        #expect(offenders.isEmpty, "use a kind a caller can act on (MkosiError.Code) in: \(offenders.joined(separator: ", "))")
    }
}
