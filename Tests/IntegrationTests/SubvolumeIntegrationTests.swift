import Foundation
import Testing
import TestSupport

/// `UseSubvolumes=` on a real btrfs: a loop-mounted file system made for the test. Part of the
/// serialized `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// A btrfs file system in a sparse file, loop-mounted under /var/tmp for the test's life.
    final class LoopBtrfs {
        let image = "/var/tmp/mkosi-integration-btrfs-\(UUID().uuidString).img"
        var mountpoint: String { image.replacingOccurrences(of: ".img", with: "") }
        var mounted = false

        init() throws {
            let fm = FileManager.default
            try fm.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
            for argv in [["truncate", "-s", "512M", image], ["mkfs.btrfs", "-q", image], ["mount", "-o", "loop", image, mountpoint]] {
                let r = try Shell.run(argv)
                guard r.status == 0 else { throw CocoaError(.featureUnsupported, userInfo: ["step": "\(argv): \(r.stderr)"]) }
            }
            mounted = true
        }

        deinit {
            if mounted { _ = try? Shell.run(["umount", mountpoint]) }
            try? FileManager.default.removeItem(atPath: mountpoint)
            try? FileManager.default.removeItem(atPath: image)
        }

        /// Whether `path` is a subvolume: a directory on btrfs with inode 256.
        func isSubvolume(_ path: String) -> Bool {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return false }
            return (attributes[.systemFileNumber] as? Int) == 256 && attributes[.type] as? FileAttributeType == .typeDirectory
        }
    }

    /// With the workspace, cache and output on btrfs, the image root is a subvolume, so is the
    /// `Format=directory` output it becomes, and the incremental cache is a snapshot of it (and
    /// restored as one); `UseSubvolumes=yes` off btrfs is an error.
    @Test func subvolumesForTheRootTheCacheAndTheOutput() throws {
        let btrfs = try LoopBtrfs()
        let fs = btrfs.mountpoint
        let p = try Project([
            "mkosi.conf": "[Distribution]\nDistribution=custom\n[Output]\nFormat=directory\nOutputDirectory=\(fs)/out\n"
                + "CacheDirectory=\(fs)/cache\n[Build]\nIncremental=yes\nUseSubvolumes=yes\n",
            "mkosi.conf.d/50-workspace.conf": "[Build]\nWorkspaceDirectory=\(fs)\n",
            "mkosi.extra/usr/lib/os-release": "ID=mkosi-subvolumes\n",
        ])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        #expect(btrfs.isSubvolume(fs + "/out/image"), "the output is no subvolume")
        let caches = ((try? FileManager.default.contentsOfDirectory(atPath: fs + "/cache")) ?? []).filter { $0.hasSuffix(".cache") }
        #expect(caches.count == 1 && caches.allSatisfy { btrfs.isSubvolume(fs + "/cache/" + $0) }, "\(caches)")
        let again = try Shell.run([mkosi, "-f", "build"], cwd: p.dir)
        #expect(again.status == 0 && again.stderr.contains("Reusing the cached image"), "\(again.stderr.suffix(3000))")
        #expect(btrfs.isSubvolume(fs + "/out/image"))
        #expect(FileManager.default.fileExists(atPath: fs + "/out/image/usr/lib/os-release"))
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: fs)) ?? []).filter { $0.hasPrefix("mkosi-workspace") }
        #expect(leftovers.isEmpty, "\(leftovers)")

        let off = try Project(["mkosi.conf": "[Distribution]\nDistribution=custom\n[Output]\nFormat=directory\n[Build]\nUseSubvolumes=yes\n"])
        let refused = try Shell.run([mkosi, "build"], cwd: off.dir)
        #expect(refused.status != 0 && refused.stderr.contains("UseSubvolumes=yes, but") && refused.stderr.contains("not on a btrfs"),
                "\(refused.stderr.suffix(1500))")
        #expect(off.leftovers().isEmpty)
    }
}
