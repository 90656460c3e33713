import Foundation
import Testing
import TestSupport

/// `BuildSourcesEphemeral=`: what build scripts change in the build sources never reaches the
/// real sources; with `buildcache` the changes are kept in the build directory for the next
/// build. Part of the serialized `BuildIntegrationTests` suite.
extension BuildIntegrationTests {
    @Test func ephemeralBuildSourcesKeepTheRealSourcesUnchanged() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=none\n[Build]\nBuildSources=src\nBuildDirectory=build\nBuildKey=-\n"
                + "Incremental=yes\nCacheDirectory=cache\n",
            "src/existing": "original\n",
            // Records whether an earlier build's change is visible, then changes the sources.
            "mkosi.build": "#!/bin/sh\nset -e\n"
                + "{ test -e /work/src/generated && echo seen || echo absent; } >> \"$BUILDDIR/log\"\n"
                + "echo generated > /work/src/generated\necho changed >> /work/src/existing\n",
        ], executable: ["mkosi.build"])
        let src = p.dir + "/src", build = p.dir + "/build"
        func sourcesUnchanged() throws -> Bool {
            try FileManager.default.contentsOfDirectory(atPath: src) == ["existing"]
                && String(contentsOfFile: src + "/existing", encoding: .utf8) == "original\n"
        }
        func log() throws -> String { try String(contentsOfFile: build + "/log", encoding: .utf8) }

        let first = try Shell.run([mkosi, "--build-sources-ephemeral=buildcache", "build"], cwd: p.dir)
        #expect(first.status == 0, "\(first.stderr.suffix(2000))")
        #expect(try sourcesUnchanged())
        #expect(try String(contentsOfFile: build + "/mkosi.buildovl.src/generated", encoding: .utf8) == "generated\n")
        #expect(!FileManager.default.fileExists(atPath: build + "/mkosi.buildovl.src-workdir"))

        let second = try Shell.run([mkosi, "-f", "--build-sources-ephemeral=buildcache", "build"], cwd: p.dir)
        #expect(second.status == 0, "\(second.stderr.suffix(2000))")
        #expect(try sourcesUnchanged())
        #expect(try String(contentsOfFile: build + "/mkosi.buildovl.src/existing", encoding: .utf8) == "original\nchanged\nchanged\n")

        // yes: a fresh overlay per script, which sees neither the real sources' nor the cache's changes.
        let third = try Shell.run([mkosi, "-f", "--build-sources-ephemeral=yes", "build"], cwd: p.dir)
        #expect(third.status == 0, "\(third.stderr.suffix(2000))")
        #expect(try sourcesUnchanged())
        #expect(try log() == "absent\nseen\nabsent\n")
        #expect(p.leftovers().isEmpty)
    }
}
