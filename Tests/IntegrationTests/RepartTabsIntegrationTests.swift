import Foundation
import Testing
import TestSupport

extension BuildIntegrationTests {
    /// As upstream, systemd-repart (256 or newer, trixie's 257 here) writes the image's
    /// `/etc/fstab` from the definitions' `MountPoint=` while it makes the disk, so the root
    /// partition holds the entries of both partitions.
    @Test func repartWritesTheImagesFstab() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=disk\n[Content]\nBootable=no\n" + withTools,
            "mkosi.repart/10-root.conf": "[Partition]\nType=root\nFormat=ext4\nCopyFiles=/\nMountPoint=/\nMinimize=guess\n",
            "mkosi.repart/20-srv.conf": "[Partition]\nType=linux-generic\nFormat=ext4\nMountPoint=/srv\nSizeMinBytes=16M\n",
        ])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        try Self.withRootPartition(p.dir + "/image.raw") { root in
            let fstab = (try? String(contentsOfFile: root + "/etc/fstab", encoding: .utf8)) ?? ""
            let entries = fstab.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map(String.init) }
            #expect(entries.contains { $0.count > 2 && $0[0].hasPrefix("UUID=") && $0[1] == "/" && $0[2] == "ext4" }, "fstab: \(fstab)")
            #expect(entries.contains { $0.count > 2 && $0[1] == "/srv" && $0[2] == "ext4" }, "fstab: \(fstab)")
        }
    }
}
