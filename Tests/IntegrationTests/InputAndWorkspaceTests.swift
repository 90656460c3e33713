import Foundation
import Testing
import TestSupport

/// Inputs refused before any work, workspaces reclaimed after `kill -9`, `--debug-workspace`.
/// Each project has a scratch directory of its own (`BuildIntegrationTests.Project`); only the
/// kill test builds an image.
@Suite(.serialized, .enabled(if: getuid() == 0 && ProcessInfo.processInfo.environment["MKOSI_SKIP_INTEGRATION"] != "1",
                             "needs root and the Debian mirror"))
struct InputAndWorkspaceTests {
    typealias Project = BuildIntegrationTests.Project
    let mkosi = Binary.locate()
    static let base = BuildIntegrationTests.base

    /// A missing `ExtraTrees=` source stops the build before anything is downloaded (no
    /// package cache, no workspace), naming the file and line that set it.
    @Test func missingExtraTreeIsRefusedBeforeAnyDownload() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nPackages=hello\nExtraTrees=missing-tree\n"])
        let cache = p.dir + "/pkgcache"
        let r = try Shell.run([mkosi, "--package-cache-directory", cache, "build"], cwd: p.dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("mkosi.conf:8: \(p.dir)/missing-tree, named by ExtraTrees=, does not exist"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cache), "the package cache was made")
        #expect(p.leftovers().isEmpty, "\(p.leftovers())")
        #expect(!r.stderr.contains("Building main image"))
    }

    /// `--configure-script /` is refused with the option named, before anything runs.
    @Test func configureScriptMustBeAFile() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n"])
        let r = try Shell.run([mkosi, "--configure-script", "/", "build"], cwd: p.dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("command line (--configure-script): /, named by ConfigureScripts=, is not a file"), "\(r.stderr)")
        #expect(!r.stderr.contains("Running"))
        // summary runs no build checks.
        #expect(try Shell.run([mkosi, "--configure-script", "/", "summary"], cwd: p.dir).status == 0)
    }

    /// A build killed with SIGKILL leaves its workspace; the next build reclaims it, says so,
    /// and succeeds.
    @Test func workspaceOfAKilledBuildIsReclaimed() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n",
            // Sleeps (in place of the shell, so that it dies with the sandbox) only the first time.
            "mkosi.postinst": "#!/bin/sh\nif [ ! -e \"$SRCDIR/slept\" ]; then touch \"$SRCDIR/slept\"; echo POSTINST-SLEEPING >&2; exec sleep 600; fi\n",
        ], executable: ["mkosi.postinst"])
        let first = try Running([mkosi, "build"], cwd: p.dir)
        let sleeping = first.waitFor("POSTINST-SLEEPING", timeout: 900)
        kill(first.pid, SIGKILL)
        _ = first.wait()
        #expect(sleeping, "\(first.stderr.suffix(2000))")
        let left = p.leftovers()
        #expect(left.contains { $0.hasPrefix("mkosi-workspace-") }, "\(left)")

        let second = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(second.status == 0, "\(second.stderr.suffix(2000))")
        #expect(second.stderr.contains("Removed \(left.count) workspaces left by killed builds ("), "\(second.stderr.prefix(1000))")
        #expect(second.stderr.contains(") in \(p.workspace)\n"))
        #expect(FileManager.default.fileExists(atPath: p.dir + "/image/usr/lib/os-release"))
        #expect(p.leftovers().isEmpty, "\(p.leftovers())")
    }

    /// `--debug-workspace` keeps the workspace (also of a failed build) and logs its path as
    /// upstream does; the next run does not take it for a killed build's.
    @Test func debugWorkspaceKeepsTheWorkspace() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n",
                             "mkosi.sync": "#!/bin/sh\nexit 3\n"], executable: ["mkosi.sync"])
        let r = try Shell.run([mkosi, "--debug-workspace", "build"], cwd: p.dir)
        #expect(r.status != 0)
        let line = try #require(r.stderr.split(separator: "\n").first { $0.contains("Workspace: ") }, "\(r.stderr)")
        let path = String(line[line.range(of: "Workspace: ")!.upperBound...])
        #expect(path.hasPrefix(p.workspace + "/mkosi-workspace-"))
        #expect(FileManager.default.fileExists(atPath: path + "/root"))
        let again = try Shell.run([mkosi, "--debug-workspace", "build"], cwd: p.dir)
        #expect(!again.stderr.contains("Removed"), "\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: path + "/root"))
        // Without the option nothing is kept.
        try FileManager.default.removeItem(atPath: p.workspace)
        try FileManager.default.createDirectory(atPath: p.workspace, withIntermediateDirectories: true)
        #expect(try Shell.run([mkosi, "build"], cwd: p.dir).status != 0)
        #expect(p.leftovers().isEmpty, "\(p.leftovers())")
    }
}
