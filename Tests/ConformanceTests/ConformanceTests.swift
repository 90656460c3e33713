import Foundation
import TestSupport
import Testing

/// The acceptance test of the configuration engine: every case of `Tests/Fixtures/config`, each
/// recorded with upstream mkosi (see `Tests/Fixtures/README.md`), run against the built binary.
@Suite struct ConformanceTests {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let ownCases = packageRoot + "/Tests/Fixtures/config"

    /// How many cases the fixtures hold at least; a fixture folder that loses cases fails `casesArePresent`.
    static let minimumCaseCount = 159

    static func cases(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    static let runner = ConfigCaseRunner(binary: Binary.locate())

    @Test func casesArePresent() {
        let names = Self.cases(in: Self.ownCases)
        #expect(names.count >= Self.minimumCaseCount,
                "expected at least \(Self.minimumCaseCount) cases in \(Self.ownCases), found \(names.count)")
        let unrecorded = names.filter { name in
            !["case.expected.json", "case.expected-error"].contains {
                FileManager.default.fileExists(atPath: Self.ownCases + "/" + name + "/" + $0)
            }
        }
        #expect(unrecorded.isEmpty, "cases without a recorded outcome: \(unrecorded)")
    }

    @Test(arguments: cases(in: ownCases))
    func own(_ name: String) throws {
        let outcome = try Self.runner.run(caseDir: Self.ownCases + "/" + name)
        #expect(outcome.problems.isEmpty, "case \(name) differs:\n  \(outcome.problems.prefix(20).joined(separator: "\n  "))")
    }
}
