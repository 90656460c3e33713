import Foundation
import MkosiConfig
import MkosiCore
import Testing
@testable import MkosiBuild

/// The decisions of kernel installation, without building anything.
@Suite struct BootPlanTests {
    func config(_ conf: String) throws -> Config {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-boot-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ("[Distribution]\nDistribution=debian\nRelease=trixie\n[Output]\nFormat=disk\n" + conf)
            .write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        let loaded = try ConfigLoader.load(["build"], cwd: dir, resources: BuiltinResources())
        return try #require(loaded.main)
    }

    /// UnifiedKernelImages=auto without the stub or without ukify falls back to Type #1 entries;
    /// UKIs asked for explicitly without a stub are an error, as upstream.
    @Test func autoFallsBackToType1Entries() throws {
        let auto = try config("")
        #expect(try Boot.wantUKI(auto, stub: true, ukify: true))
        #expect(try !Boot.wantUKI(auto, stub: false, ukify: true))
        #expect(try !Boot.wantUKI(auto, stub: true, ukify: false))
        let none = try config("[Content]\nUnifiedKernelImages=no\n")
        #expect(try !Boot.wantUKI(none, stub: true, ukify: true))
        let yes = try config("[Content]\nUnifiedKernelImages=yes\n")
        #expect(try Boot.wantUKI(yes, stub: true, ukify: false))
        #expect(throws: MkosiError.self) { try Boot.wantUKI(yes, stub: false, ukify: true) }
        let bootloader = try config("[Content]\nBootloader=uki\nUnifiedKernelImages=no\n")
        #expect(try Boot.wantUKI(bootloader, stub: true, ukify: true))
        #expect(throws: MkosiError.self) { try Boot.wantUKI(bootloader, stub: false, ukify: true) }
    }

    /// Initrds scripts leave in $ARTIFACTDIR/io.mkosi.initrd come after Initrds=, sorted.
    @Test func artifactInitrdsFollowTheConfiguredOnes() throws {
        let artifacts = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-artifacts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: artifacts) }
        let c = try config("[Content]\nInitrds=/srv/first.cpio\n")
        #expect(Boot.initrds(c, artifacts: artifacts) == ["/srv/first.cpio"])
        try FileManager.default.createDirectory(atPath: artifacts + "/io.mkosi.initrd", withIntermediateDirectories: true)
        for name in ["b.cpio", "a.cpio"] {
            _ = FileManager.default.createFile(atPath: artifacts + "/io.mkosi.initrd/" + name, contents: Data())
        }
        #expect(Boot.initrds(c, artifacts: artifacts)
                    == ["/srv/first.cpio", artifacts + "/io.mkosi.initrd/a.cpio", artifacts + "/io.mkosi.initrd/b.cpio"])
    }
}
