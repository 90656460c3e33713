@testable import MkosiConfig
import MkosiCore
import Testing

@Suite struct IniFileTests {
    func entries(_ text: String, only: Set<String> = []) throws -> [(String, String, String, Int)] {
        try IniFile.entries(IniFile.scan(text, path: "f.conf"), onlySections: only).map {
            ($0.section, $0.key, $0.value, $0.line)
        }
    }

    @Test func basicSettingsAndRepeatedKeys() throws {
        let e = try entries("[Content]\nPackages=a\nPackages = b \n[Output]\nFormat=disk\n")
        #expect(e.map(\.1) == ["Packages", "Packages", "Format"])
        #expect(e.map(\.2) == ["a", "b", "disk"])
        #expect(e.map(\.0) == ["Content", "Content", "Output"])
        #expect(e.map(\.3) == [2, 3, 5])
    }

    @Test func commentsAnywhereAndSemicolonIsNotAComment() throws {
        let e = try entries("# top\n[Content] # section comment\nPackages=a # trailing\n; not a comment=1\nX=a#b\n")
        #expect(e.map(\.2) == ["a", "1", "a"])
        #expect(e[1].1 == "; not a comment")
    }

    @Test func continuationLinesJoinWithNewlines() throws {
        let e = try entries("[Content]\nPackages=a\n    b\n\n    c # comment\nOther=x\n")
        #expect(e[0].2 == "a\nb\nc")
        #expect(e[1].2 == "x")
    }

    @Test func emptyValueAndIndentedFirstValue() throws {
        let e = try entries("[Content]\nPackages=\n        a\n        b\n")
        #expect(e[0].2 == "\na\nb")
    }

    @Test func wholeFileIsDedented() throws {
        let e = try entries("    [Content]\n    Packages=a\n        b\n")
        #expect(e.count == 1)
        #expect(e[0].2 == "a\nb")
    }

    @Test func crlfLineEndings() throws {
        let e = try entries("[Content]\r\nPackages=a\r\nWithDocs=no\r\n")
        #expect(e.map(\.2) == ["a", "no"])
    }

    @Test func onlySectionsSkipsOthersWithoutCheckingThem() throws {
        let e = try entries("[Match]\nDistribution=debian\n[Content]\nthis line has no equals\n", only: ["Match"])
        #expect(e.count == 1)
    }

    @Test(arguments: [
        ("[Content\nA=b\n", "f.conf:1: [Content is not a valid section"),
        ("[  ]\n", "f.conf:1: Section name cannot be empty or whitespace"),
        ("A=b\n", "f.conf:1: Setting A=b is located outside of section"),
        ("[Content]\nPackages\n", "f.conf:2: Setting Packages must be followed by '='"),
        ("[Content]\n=value\n", "f.conf:2: Missing setting name before '=' in =value"),
    ])
    func errorsNameFileAndLine(_ text: String, _ message: String) {
        #expect(errorMessage { _ = try IniFile.parse(text, path: "f.conf") } == message)
    }

    /// A line without `=` is an error only where it is read, and only once reading gets there.
    @Test func lineErrorsCountOnlyInSectionsThatAreRead() throws {
        let items = IniFile.scan("[Match]\nDistribution=debian\n[Content]\nbroken line\n", path: "f.conf")
        #expect(try IniFile.entries(items, onlySections: ["Match"]).count == 1)
        #expect(errorMessage { _ = try IniFile.entries(items, onlySections: ["Content"]) } == "f.conf:4: Setting broken line must be followed by '='")
        let header = IniFile.scan("[Content]\nA=b\n[Broken\n", path: "f.conf")
        #expect(errorMessage { _ = try IniFile.entries(header, onlySections: ["Match"]) } == "f.conf:3: [Broken is not a valid section")
    }

    @Test func dedentKeepsRelativeIndentation() {
        func lines(_ l: [String]) -> [ArraySlice<UInt8>] { l.map { Array($0.utf8)[...] } }
        #expect(IniFile.dedent(lines(["  a", "    b", "", "  c"])) == lines(["a", "  b", "", "c"]))
        #expect(IniFile.dedent(lines(["\ta", "  b"])) == lines(["\ta", "  b"]))
    }
}
