@testable import MkosiConfig
import MkosiCore
import Testing

@Suite struct MatchingTests {
    @Test func listMembership() throws {
        let list = Value.list([.string("a"), .string("b")])
        #expect(try Matching.match(.listContains(.string), condition: "a", value: list))
        #expect(try !Matching.match(.listContains(.string), condition: "c", value: list))
        #expect(try Matching.match(.listContains(.profile), condition: "", value: .list([])))
        #expect(try !Matching.match(.listContains(.profile), condition: "", value: list))
    }

    @Test func enumsArchitecturesAndFeatures() throws {
        #expect(try Matching.match(.enumeration(.distribution), condition: "debian", value: .string("debian")))
        #expect(errorMessage { _ = try Matching.match(.enumeration(.distribution), condition: "debain", value: .string("debian")) } != nil)
        #expect(try Matching.match(.architecture, condition: "uefi", value: .string("x86-64")))
        #expect(try !Matching.match(.architecture, condition: "uefi", value: .string("s390x")))
        #expect(try Matching.match(.architecture, condition: "arm64", value: .string("arm64")))
        #expect(try Matching.match(.feature, condition: "yes", value: .string("enabled")))
        #expect(try Matching.match(.feature, condition: "auto", value: .string("auto")))
    }

    @Test func stringsAndGlobs() throws {
        #expect(try Matching.match(.string, condition: "trixie", value: .string("trixie")))
        #expect(try !Matching.match(.string, condition: "trix*", value: .string("trixie")))
        #expect(try Matching.match(.glob, condition: "foo-*", value: .string("foo-bar")))
        #expect(try Matching.match(.glob, condition: "f?o", value: .string("foo")))
        #expect(try !Matching.match(.glob, condition: "bar*", value: .string("foo")))
    }

    @Test(arguments: [
        ("1.2.3", "1.2.3", true), (">=1.2", "1.2.3", true), ("<1.2", "1.2.3", false), ("!=1.2.3", "1.2.3", false),
        (">1.2.3~rc1", "1.2.3", true), ("<=2", "10", false), ("==1.02", "1.2", true), (">1", "1a", true),
    ])
    func versions(_ condition: String, _ version: String, _ expected: Bool) {
        #expect(Matching.compareVersion(condition, version) == expected)
    }

    @Test func keyValuesAndBuildSources() throws {
        let env = Value.dict(OrderedDict([("A", "1"), ("B", "")]))
        #expect(try Matching.match(.keyValue, condition: "A", value: env))
        #expect(try Matching.match(.keyValue, condition: "A=1", value: env))
        #expect(try !Matching.match(.keyValue, condition: "A=2", value: env))
        #expect(try Matching.match(.keyValue, condition: "B=", value: env))
        let sources = Value.list([.tree(ConfigTree(source: "/x", target: "src"))])
        #expect(try Matching.match(.buildSources, condition: "/src", value: sources))
        #expect(try !Matching.match(.buildSources, condition: "other", value: sources))
    }

    @Test(arguments: [
        ("1.0", "1.0", 0), ("1.0", "1.1", -1), ("1.10", "1.9", 1), ("1.0~rc1", "1.0", -1), ("1.0^post", "1.0", 1),
        ("1.0-1", "1.0", 1), ("a", "b", -1), ("1a", "1b", -1), ("001", "1", 0), ("", "1", -1), ("1.0.0", "1.0", 1),
        ("5.0", "5.0.0", -1), ("~1", "~2", -1), ("1_0", "1.0", 1),
    ])
    func versionOrdering(_ a: String, _ b: String, _ expected: Int) {
        #expect(Version.compare(a, b) == expected)
        #expect(Version.compare(b, a) == -expected)
    }
}
