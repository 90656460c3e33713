import Foundation
import Testing
@testable import MkosiBuild
import MkosiConfig

struct KernelModulesTests {
    @Test func globsFollowUpstreamRules() {
        let m = "kernel/drivers/block/virtio_blk.ko.xz"
        #expect(KernelModules.globsMatch(m, ["virtio_blk"]) == true)
        #expect(KernelModules.globsMatch(m, ["virtio-blk"]) == true)
        #expect(KernelModules.globsMatch(m, ["/drivers/block/"]) == true)
        #expect(KernelModules.globsMatch(m, ["block/virtio*"]) == true)
        #expect(KernelModules.globsMatch(m, ["virtio*", "-virtio_blk"]) == false)
        #expect(KernelModules.globsMatch(m, ["-virtio_blk", "virtio*"]) == true)
        #expect(KernelModules.globsMatch(m, ["ext4"]) == nil)
        #expect(KernelModules.globsMatch("kernel/fs/nls/nls_utf8.ko", ["/fs/nls/"]) == true)
        #expect(KernelModules.globsMatch("kernel/drivers/md/raid10.ko", ["raid[0-9]*"]) == true)
    }

    /// A fake module tree: selection by include and exclude, then dependencies from modules.dep
    /// and modules.softdep.
    @Test func selectionFollowsDependencies() throws {
        let dir = NSTemporaryDirectory() + "/mkosi-kmod-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let modules = ["kernel/drivers/block/virtio_blk.ko.xz", "kernel/drivers/virtio/virtio_ring.ko.xz",
                       "kernel/fs/ext4/ext4.ko.xz", "kernel/lib/crc16.ko.xz", "kernel/sound/snd.ko.xz", "kernel/lib/libcrc32c.ko.xz"]
        for m in modules {
            try FileManager.default.createDirectory(atPath: dir + "/" + (m as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: dir + "/" + m, contents: Data())
        }
        try """
            kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz
            kernel/drivers/virtio/virtio_ring.ko.xz:
            kernel/fs/ext4/ext4.ko.xz: kernel/lib/crc16.ko.xz
            kernel/lib/crc16.ko.xz:
            kernel/sound/snd.ko.xz:
            kernel/lib/libcrc32c.ko.xz:

            """.write(toFile: dir + "/modules.dep", atomically: true, encoding: .utf8)
        try "softdep ext4 pre: libcrc32c\n".write(toFile: dir + "/modules.softdep", atomically: true, encoding: .utf8)

        let onlyBlock = try KernelModules.select(dir, include: ["virtio_blk"], exclude: [], architecture: .x86_64)
        #expect(onlyBlock == ["kernel/drivers/block/virtio_blk.ko.xz", "kernel/drivers/virtio/virtio_ring.ko.xz"])
        let ext4 = try KernelModules.select(dir, include: ["re:fs/ext4"], exclude: [], architecture: .x86_64)
        #expect(ext4 == ["kernel/fs/ext4/ext4.ko.xz", "kernel/lib/crc16.ko.xz", "kernel/lib/libcrc32c.ko.xz"])
        let noSound = try KernelModules.select(dir, include: [], exclude: ["re:sound/"], architecture: .x86_64)
        #expect(noSound.count == 5 && !noSound.contains("kernel/sound/snd.ko.xz"))
        #expect(try KernelModules.select(dir, include: [], exclude: [], architecture: .x86_64).count == 6)
        #expect(KernelModules.defaultInitrdModules(.x86_64).contains("virtio_blk"))
        #expect(throws: Error.self) { try KernelModules.select(dir, include: ["re:("], exclude: [], architecture: .x86_64) }
    }
}

/// `KernelModulesIncludeHost=` / `KernelModulesInitrdIncludeHost=`: the modules loaded on the
/// host come first, `host` in the list does not add them twice, duplicates go.
struct KernelModulesIncludeHostTests {
    @Test func hostModulesAreIncludedFirstAndOnce() {
        let loaded = KernelModules.loadedModules("virtio_net 16384 0 - Live 0x0\nkvm_intel 4096 0 - Live 0x0\n")
        #expect(loaded == ["virtio-net", "kvm-intel"])
        #expect(KernelModules.expandInclude(["ext4"], host: false, architecture: .x86_64, loaded: { loaded }) == ["ext4"])
        #expect(KernelModules.expandInclude(["ext4", "host", "virtio-net"], host: true, architecture: .x86_64, loaded: { loaded })
                    == ["virtio-net", "kvm-intel", "ext4"])
        #expect(KernelModules.expandInclude([], host: true, architecture: .x86_64, loaded: { loaded }) == ["virtio-net", "kvm-intel"])
        #expect(KernelModules.expandInclude(["host"], host: false, architecture: .x86_64, loaded: { loaded }) == ["virtio-net", "kvm-intel"])
    }

    @Test func theSettingsAreHonoured() {
        for name in ["KernelModulesIncludeHost", "KernelModulesInitrdIncludeHost"] {
            guard case .honoured = Settings.all.first(where: { $0.name == name })?.support.status else {
                Issue.record("\(name) is not honoured in the settings table")
                continue
            }
        }
    }
}

/// The firmware the kernel-modules initrd takes for its modules, as upstream resolves modinfo's
/// `firmware:` names (the differential bench found ours leaving out the AMD SEV firmware `ccp`
/// asks for).
@Suite struct ModuleFirmwareTests {
    @Test func namesCompressedVariantsGlobsAndLinks() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fw-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fw = root + "/usr/lib/firmware"
        for dir in ["amd", "intel", "vendor"] {
            try FileManager.default.createDirectory(atPath: fw + "/" + dir, withIntermediateDirectories: true)
        }
        for file in ["amd/amd_sev_fam17h_model0xh.sbin", "intel/ibt-12.sfi.zst", "vendor/a-1.bin", "vendor/a-2.bin",
                     "vendor/real.bin", "unrelated.bin"] {
            _ = FileManager.default.createFile(atPath: fw + "/" + file, contents: Data("x".utf8))
        }
        try FileManager.default.createSymbolicLink(atPath: fw + "/vendor/link.bin", withDestinationPath: "real.bin")
        let found = KernelModules.resolveFirmware(["amd/amd_sev_fam17h_model0xh.sbin", "intel/ibt-12.sfi", "vendor/a-*",
                                                   "vendor/link.bin", "missing.bin"], root: root)
        #expect(found == ["usr/lib/firmware/amd/amd_sev_fam17h_model0xh.sbin", "usr/lib/firmware/intel/ibt-12.sfi.zst",
                          "usr/lib/firmware/vendor/a-1.bin", "usr/lib/firmware/vendor/a-2.bin",
                          "usr/lib/firmware/vendor/link.bin", "usr/lib/firmware/vendor/real.bin"])
    }
}
