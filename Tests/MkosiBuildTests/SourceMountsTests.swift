import MkosiConfig
import MkosiCore
import MkosiSandbox
import Testing
@testable import MkosiBuild

/// Which scripts see the build sources through an overlay (`BuildSourcesEphemeral=`), and
/// where the overlays' directories go.
@Suite struct SourceMountsTests {
    typealias Kind = SourceMounts.ScriptKind
    typealias Project = InputCheckTests.Project

    @Test func modeFollowsUpstreamPerScriptKind() {
        let all: [Kind] = [.sync, .prepare, .build, .postInstallation, .finalize, .postOutput, .clean]
        for kind in all {
            #expect(SourceMounts.mode(for: kind, ephemeral: .no) == .bind)
        }
        // Sync and clean scripts always get the real sources.
        for e: BuildSourcesEphemeral in [.yes, .buildcache] {
            #expect(SourceMounts.mode(for: .sync, ephemeral: e) == .bind)
            #expect(SourceMounts.mode(for: .clean, ephemeral: e) == .bind)
        }
        for kind: Kind in [.prepare, .build, .postInstallation, .finalize, .postOutput] {
            #expect(SourceMounts.mode(for: kind, ephemeral: .yes) == .volatile)
        }
        // buildcache keeps the changes of build scripts only; the others' are thrown away.
        #expect(SourceMounts.mode(for: .build, ephemeral: .buildcache) == .buildCache)
        for kind: Kind in [.prepare, .postInstallation, .finalize, .postOutput] {
            #expect(SourceMounts.mode(for: kind, ephemeral: .buildcache) == .volatile)
        }
    }

    let trees = [ConfigTree(source: "/home/me/proj", target: nil), ConfigTree(source: "/home/me/lib", target: "lib")]

    @Test func bindMountsTheRealSources() throws {
        let m = try SourceMounts.plan(trees, mode: .bind, scratch: "/s", buildSubdirectory: nil)
        #expect(m.map(\.operation) == [.bind(source: "/home/me/proj", target: "/work/src", readOnly: false, optional: false),
                                       .bind(source: "/home/me/lib", target: "/work/src/lib", readOnly: false, optional: false)])
    }

    @Test func volatileOverlaysGoToTheScratchDirectory() throws {
        let m = try SourceMounts.plan(trees, mode: .volatile, scratch: "/ws/volatile-sources-x", buildSubdirectory: "/b/key")
        #expect(m.map(\.operation) == [
            .overlay(lower: ["/home/me/proj"], upper: "/ws/volatile-sources-x/sources-0/upper",
                     work: "/ws/volatile-sources-x/sources-0/work", target: "/work/src"),
            .overlay(lower: ["/home/me/lib"], upper: "/ws/volatile-sources-x/sources-1/upper",
                     work: "/ws/volatile-sources-x/sources-1/work", target: "/work/src/lib"),
        ])
    }

    @Test func buildCacheKeepsTheUpperDirectoryInTheBuildSubdirectory() throws {
        let m = try SourceMounts.plan(trees, mode: .buildCache, scratch: "", buildSubdirectory: "/b/key")
        #expect(m.map(\.operation) == [
            .overlay(lower: ["/home/me/proj"], upper: "/b/key/mkosi.buildovl.proj", work: "/b/key/mkosi.buildovl.proj-workdir", target: "/work/src"),
            .overlay(lower: ["/home/me/lib"], upper: "/b/key/mkosi.buildovl.lib", work: "/b/key/mkosi.buildovl.lib-workdir", target: "/work/src/lib"),
        ])
        #expect(throws: MkosiError.self) { try SourceMounts.plan(trees, mode: .buildCache, scratch: "", buildSubdirectory: nil) }
        #expect(try SourceMounts.plan([], mode: .buildCache, scratch: "", buildSubdirectory: nil).isEmpty)
    }

    /// buildcache without a build directory is refused before any work when a build script
    /// would need it.
    @Test func buildCacheWithoutBuildDirectoryIsRefusedFirst() throws {
        let base = "[Distribution]\nDistribution=debian\nRelease=trixie\n[Build]\nBuildSourcesEphemeral=buildcache\n"
        let p = try Project(["mkosi.conf": base, "mkosi.build": "#!/bin/sh\n"], executable: ["mkosi.build"])
        let config = try #require(try p.load().images.last)
        let error = #expect(throws: MkosiError.self) { try InputCheck.refuseContradictions(config, cwd: p.dir) }
        #expect(error?.message == "BuildSourcesEphemeral=buildcache (mkosi.conf:5) was configured, but no build directory exists",
                "\(error?.message ?? "")")
        let withDir = try Project(["mkosi.conf": base + "BuildDirectory=build\n", "mkosi.build": "#!/bin/sh\n", "build/.keep": ""],
                                  executable: ["mkosi.build"])
        let ok = try #require(try withDir.load().images.last)
        #expect(throws: Never.self) { try InputCheck.refuseContradictions(ok, cwd: withDir.dir) }
        let noScripts = try #require(try Project(["mkosi.conf": base]).load().images.last)
        #expect(throws: Never.self) { try InputCheck.refuseContradictions(noScripts, cwd: "/") }
    }
}
