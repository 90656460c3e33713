import Foundation
import TestSupport
import Testing

/// The acceptance test of the configuration engine: every case of `../shared/conformance/config`
/// (recorded with upstream mkosi), plus our own cases in `Tests/Fixtures/config` (also recorded
/// with upstream, see `Tests/Fixtures/README.md`).
@Suite struct ConformanceTests {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let sharedCases: String =
        ProcessInfo.processInfo.environment["MKOSI_CONFORMANCE_DIR"] ?? packageRoot + "/../shared/conformance/config"
    static let ownCases = packageRoot + "/Tests/Fixtures/config"

    static func cases(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    static let runner = ConfigCaseRunner(binary: Binary.locate())

    @Test func sharedCasesArePresent() {
        #expect(Self.cases(in: Self.sharedCases).count >= 83, "expected the 83 shared cases in \(Self.sharedCases)")
    }

    @Test(arguments: cases(in: sharedCases))
    func shared(_ name: String) throws {
        let outcome = try Self.runner.run(caseDir: Self.sharedCases + "/" + name)
        #expect(outcome.problems.isEmpty, "case \(name) differs:\n  \(outcome.problems.prefix(20).joined(separator: "\n  "))")
    }

    @Test(arguments: cases(in: ownCases))
    func own(_ name: String) throws {
        let outcome = try Self.runner.run(caseDir: Self.ownCases + "/" + name)
        #expect(outcome.problems.isEmpty, "case \(name) differs:\n  \(outcome.problems.prefix(20).joined(separator: "\n  "))")
    }
}
