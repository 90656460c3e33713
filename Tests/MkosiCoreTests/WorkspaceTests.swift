import Foundation
import Testing
@testable import MkosiCore

/// Workspaces are locked by their owner and reclaimed by the next run once the owner is gone.
@Suite struct WorkspaceTests {
    func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-ws-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func liveWorkspacesAndOthersAreLeftAlone() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let live = try Workspace.create(in: base, prefix: "mkosi-workspace")
        #expect(FileManager.default.fileExists(atPath: live.path + "/" + Workspace.lockName))
        try "data".write(toFile: live.path + "/file", atomically: true, encoding: .utf8)
        // Upstream's workspace (no lock file) and other directories are not ours.
        try FileManager.default.createDirectory(atPath: base + "/mkosi-workspace-abcd1234/root", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/other", withIntermediateDirectories: true)
        try "x".write(toFile: base + "/other/" + Workspace.lockName, atomically: true, encoding: .utf8)
        let r = Workspace.reclaim(in: base, mountinfo: "")
        #expect(r == Workspace.Reclaimed())
        #expect(Workspace.summary(r, in: base) == nil)
        #expect(FileManager.default.fileExists(atPath: live.path + "/file"))
        #expect(FileManager.default.fileExists(atPath: base + "/mkosi-workspace-abcd1234/root"))
        live.remove()
        #expect(!FileManager.default.fileExists(atPath: live.path))
    }

    @Test func deadOwnersWorkspacesAreReclaimed() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        // What a killed build leaves: the directory and its lock file, locked by nobody.
        let dead = base + "/mkosi-workspace-Ab12Cd"
        try FileManager.default.createDirectory(atPath: dead + "/root/usr/bin", withIntermediateDirectories: true)
        try String(repeating: "x", count: 3000).write(toFile: dead + "/root/usr/bin/tool", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dead + "/root/outside", withDestinationPath: base + "/keep")
        try "keep".write(toFile: base + "/keep", atomically: true, encoding: .utf8)
        try "".write(toFile: dead + "/" + Workspace.lockName, atomically: true, encoding: .utf8)
        let packages = base + "/mkosi-packages-Xy34Zw"
        try FileManager.default.createDirectory(atPath: packages + "/packages", withIntermediateDirectories: true)
        try "".write(toFile: packages + "/" + Workspace.lockName, atomically: true, encoding: .utf8)
        // One with something mounted below it stays.
        let mounted = base + "/mkosi-workspace-Mn56Op"
        try FileManager.default.createDirectory(atPath: mounted + "/root/proc", withIntermediateDirectories: true)
        try "".write(toFile: mounted + "/" + Workspace.lockName, atomically: true, encoding: .utf8)
        let mountinfo = "22 1 0:5 / /proc rw - proc proc rw\n99 22 0:6 / \(mounted)/root/proc rw - proc proc rw\n"

        let r = Workspace.reclaim(in: base, mountinfo: mountinfo)
        #expect(r.removed == [packages, dead])
        #expect(r.bytes == 3000)
        #expect(r.mounted == [mounted])
        #expect(!FileManager.default.fileExists(atPath: dead) && !FileManager.default.fileExists(atPath: packages))
        #expect(FileManager.default.fileExists(atPath: base + "/keep"), "a symbolic link was followed")
        #expect(FileManager.default.fileExists(atPath: mounted + "/root/proc"))
        #expect(Workspace.summary(r, in: base)
                == "Removed 2 workspaces left by killed builds (3.0 kB) in \(base); Left \(mounted) of a killed build in place: something is mounted below it")
    }

    @Test func keptWorkspacesAreNotReclaimed() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let kept = try Workspace.create(in: base, prefix: "mkosi-workspace")
        kept.keep()
        #expect(Workspace.reclaim(in: base, mountinfo: "").removed.isEmpty)
        #expect(FileManager.default.fileExists(atPath: kept.path))
    }

    @Test func sizesAndMountPoints() {
        #expect(Workspace.humanSize(180_400_000) == "180 MB")
        #expect(Workspace.humanSize(4_210_000_000) == "4.2 GB")
        #expect(Workspace.humanSize(999) == "999 B")
        #expect(Workspace.mountPoints("36 35 98:0 /mnt1 /mnt/with\\040space rw - ext3 /dev/root rw\n") == ["/mnt/with space"])
    }
}
