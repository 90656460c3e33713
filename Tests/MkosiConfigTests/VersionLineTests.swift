import MkosiConfig
import MkosiCore
import Testing

/// `mkosi --version`: upstream's two fields first, then this implementation and its commit.
@Suite struct VersionLineTests {
    @Test func namesTheImplementationAndCommitAfterUpstreamsVersion() {
        #expect(MkosiVersion.versionLine(commit: "1a2b3c4d5e6f") == "mkosi \(MkosiVersion.current) (mkosi-swift, commit 1a2b3c4d5e6f)")
        #expect(MkosiVersion.versionLine(commit: "1a2b3c4d5e6f-dirty").hasSuffix("(mkosi-swift, commit 1a2b3c4d5e6f-dirty)"))
        #expect(MkosiVersion.versionLine(commit: nil) == "mkosi \(MkosiVersion.current) (mkosi-swift, commit unknown)")
    }

    /// What scripts take from `mkosi --version` (the first two fields: `mkosi VERSION`) is
    /// upstream's, and the version still compares as one (MinimumVersion= uses it).
    @Test func firstTwoFieldsAreUpstreams() {
        let fields = MkosiVersion.versionLine(commit: "abc").split(separator: " ").map(String.init)
        #expect(Array(fields.prefix(2)) == ["mkosi", MkosiVersion.current])
        #expect(Version(fields[1]) == Version(MkosiVersion.current))
        #expect(Version(fields[1]) > Version("26"))
    }
}
