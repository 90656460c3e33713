import Foundation
import Testing
import TestSupport

/// More real builds: base trees from an image built in the same run, side artifacts and
/// signatures, and the failures a build must report cleanly (bad keyring, full disk, missing
/// cached metadata). Part of the serialized `BuildIntegrationTests` suite.
extension BuildIntegrationTests {
    /// A subimage is the base tree of the main image; the repository metadata is synced once
    /// for both; the main image's manifest lists only what it installed itself; split os-release
    /// and tar artifacts, checksums and a gpg signature appear next to it.
    @Test func baseTreeFromASubimageWithSplitArtifactsAndSignature() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\nSplitArtifacts=os-release tar\nManifestFormat=json\n"
                + "[Validation]\nSign=yes\n[Content]\nBaseTrees=base\nPackages=hello\n",
            "mkosi.images/base/mkosi.conf": "[Output]\nFormat=directory\n",
            "mkosi.images/base/mkosi.extra/etc/base-marker": "from the base image\n",
        ])
        let gnupg = p.dir + "/gnupg"
        try FileManager.default.createDirectory(atPath: gnupg, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var env = ProcessInfo.processInfo.environment
        env["GNUPGHOME"] = gnupg
        defer { _ = try? Shell.run(["gpgconf", "--kill", "all"], environment: env) }
        let key = try Shell.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "mkosi-test@example.invalid",
                                 "default", "default", "never"], environment: env)
        #expect(key.status == 0, "\(key.stderr)")

        let r = try Shell.run([mkosi, "build"], cwd: p.dir, environment: env)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.components(separatedBy: "Syncing the repository metadata").count == 2, "metadata not synced exactly once")
        let image = p.dir + "/image"
        #expect(try String(contentsOfFile: image + "/etc/base-marker", encoding: .utf8) == "from the base image\n")
        #expect(FileManager.default.isExecutableFile(atPath: image + "/usr/bin/hello"))
        #expect(try String(contentsOfFile: p.dir + "/image.osrelease", encoding: .utf8).contains("ID=debian"))
        let list = try Shell.run(["tar", "-tf", p.dir + "/image.tar"])
        #expect(list.stdout.contains("./usr/bin/hello\n") && list.stdout.contains("./etc/base-marker\n"))

        let manifest = try String(contentsOfFile: p.dir + "/image.manifest", encoding: .utf8)
        #expect(manifest.contains("\"name\": \"hello\""), "hello missing from the manifest")
        #expect(!manifest.contains("\"name\": \"bash\""), "the manifest lists packages of the base tree")

        let sums = try String(contentsOfFile: p.dir + "/image.SHA256SUMS", encoding: .utf8)
        #expect(sums.contains("*image.tar\n") && sums.contains("*image.osrelease\n"))
        #expect(try Shell.run(["sha256sum", "-c", "image.SHA256SUMS"], cwd: p.dir).status == 0)
        let verify = try Shell.run(["gpg", "--verify", "image.SHA256SUMS.gpg", "image.SHA256SUMS"], cwd: p.dir, environment: env)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(p.leftovers().isEmpty)
    }

    /// Sources signed with a key the keyring does not have fail at the metadata sync.
    @Test func badKeyringFailsAtTheUpdate() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n",
            "mkosi.sandbox/etc/apt/sources.list.d/wrong-key.sources":
                "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\n"
                + "Signed-By: /usr/share/keyrings/debian-archive-bullseye-stable.gpg\n",
        ])
        let mountsBefore = try Self.mounts()
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status != 0)
        #expect(r.stderr.contains("apt-get update --error-on=any\" failed with exit status 100"), "\(r.stderr.suffix(1000))")
        #expect(r.stderr.contains("NO_PUBKEY") || r.stderr.contains("not signed"), "\(r.stderr.suffix(1000))")
        #expect(!FileManager.default.fileExists(atPath: p.dir + "/image"))
        #expect(p.leftovers().isEmpty)
        #expect(try Self.mounts() == mountsBefore)
    }

    /// A workspace on a file system that fills up: the failing command is named with the
    /// reason, nothing is left behind, and no output appears.
    @Test func fullDiskFailsClearlyAndLeavesNothing() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n"])
        #expect(try Shell.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", p.workspace]).status == 0)
        defer { _ = try? Shell.run(["umount", p.workspace]) }
        let mountsBefore = try Self.mounts()
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status != 0)
        #expect(r.stderr.contains("No space left on device"), "\(r.stderr.suffix(1500))")
        #expect(r.stderr.contains("failed with exit status") && r.stderr.contains("is full"), "\(r.stderr.suffix(1500))")
        #expect(!FileManager.default.fileExists(atPath: p.dir + "/image"))
        #expect(p.leftovers().isEmpty, "workspace left behind: \(p.leftovers())")
        #expect(try Self.mounts() == mountsBefore)
    }

    /// `CacheOnly=always` never downloads metadata: without any cached, the build stops at once.
    /// A sync script runs first, in the package manager's sandbox, although the empty package
    /// cache has none of the directories that sandbox binds yet (as on a new machine).
    @Test func cacheOnlyWithoutCachedMetadataFails() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Build]\nCacheOnly=always\nCacheDirectory=cache\n",
            "mkosi.conf.d/99-own-cache.conf": "[Build]\nPackageCacheDirectory=pkgcache\n",
            "mkosi.sync": "#!/bin/sh\necho sync-script-ran\n",
        ], executable: ["mkosi.sync"])
        try FileManager.default.createDirectory(atPath: p.dir + "/cache", withIntermediateDirectories: true)
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 1)
        #expect((r.stdout + r.stderr).contains("sync-script-ran"), "\(r.stderr.suffix(1000))")
        #expect(r.stderr.contains("CacheOnly=always, but there is no cached repository metadata"), "\(r.stderr.suffix(1000))")
        #expect(p.leftovers().isEmpty)
    }

    /// Scripts get a network namespace of their own with only loopback unless WithNetwork=yes;
    /// mkosi.env reaches them; mkosi.postoutput runs on the finished outputs; a setting without
    /// effect for the format is a warning naming its line, and the build goes on.
    @Test func scriptNetworkEnvironmentFilesAndPostOutput() throws {
        let connect = "timeout 10 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null && echo reachable || echo unreachable"
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\nElToritoSystem=SYS\n[Build]\n"
                + "ExtraSearchPaths=tools\nProxyExclude=example.org,localhost\n",
            "mkosi.env": "FROM_ENV_FILE=from mkosi.env\n# a comment\n",
            "tools/mkosi-test-tool": "#!/bin/sh\necho found on the extra search path\n",
            "mkosi.build": "#!/bin/bash\nset -e\nmkdir -p \"$DESTDIR/etc\"\n"
                + "echo \"$FROM_ENV_FILE\" > \"$DESTDIR/etc/env-result\"\n"
                + "mkosi-test-tool > \"$DESTDIR/etc/search-path-result\"\n"
                + "echo \"$no_proxy|$NO_PROXY\" > \"$DESTDIR/etc/proxy-result\"\n"
                + "(\(connect)) > \"$DESTDIR/etc/net-result\"\n"
                + "bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2>&1 | grep -q refused && echo loopback-up >> \"$DESTDIR/etc/net-result\" || true\n",
            "mkosi.postoutput": "#!/bin/sh\nset -e\ntest -d \"$OUTPUTDIR/image\"\nls \"$OUTPUTDIR\" > \"$OUTPUTDIR/postoutput-saw\"\n"
                + "echo \"$IMAGE_ID|$DISTRIBUTION|$SRCDIR|$PWD\" >> \"$OUTPUTDIR/postoutput-saw\"\n",
        ], executable: ["mkosi.build", "mkosi.postoutput", "tools/mkosi-test-tool"])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("mkosi.conf:6: ElToritoSystem=SYS has no effect on Format=directory images"), "\(r.stderr.suffix(2000))")
        let image = p.dir + "/image"
        #expect(try String(contentsOfFile: image + "/etc/env-result", encoding: .utf8) == "from mkosi.env\n")
        #expect(try String(contentsOfFile: image + "/etc/search-path-result", encoding: .utf8) == "found on the extra search path\n")
        #expect(try String(contentsOfFile: image + "/etc/proxy-result", encoding: .utf8) == "example.org,localhost|example.org,localhost\n")
        #expect(try String(contentsOfFile: image + "/etc/net-result", encoding: .utf8) == "unreachable\nloopback-up\n")
        let saw = try String(contentsOfFile: p.dir + "/postoutput-saw", encoding: .utf8)
        #expect(saw.hasPrefix("image\n") && saw.hasSuffix("|debian|/work/src|/work/src\n"), "\(saw)")

        let again = try Shell.run([mkosi, "-f", "--with-network=yes", "build"], cwd: p.dir)
        #expect(again.status == 0, "\(again.stderr.suffix(2000))")
        #expect(try String(contentsOfFile: image + "/etc/net-result", encoding: .utf8).hasPrefix("reachable\n"))
        #expect(p.leftovers().isEmpty)
    }

    /// Ctrl-C while the repository metadata is synced (from a mirror that never answers) is
    /// reported as an interruption, with no hint about mirrors, and leaves nothing behind.
    @Test func interruptDuringMetadataSyncSaysInterrupted() throws {
        // A listening socket that never accepts: apt connects and waits for an answer.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        #expect(listen(fd, 16) == 0)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = UInt16(bigEndian: addr.sin_port)

        let p = try Project([
            "mkosi.conf": Self.base + "[Distribution]\nMirror=http://127.0.0.1:\(port)/debian\n[Output]\nFormat=directory\n",
            "mkosi.conf.d/99-own-cache.conf": "[Build]\nPackageCacheDirectory=pkgcache\n",
        ])
        let mountsBefore = try Self.mounts()
        let build = try Running([mkosi, "build"], cwd: p.dir)
        #expect(build.waitFor("Syncing the repository metadata", timeout: 60), "\(build.stderr)")
        usleep(1_500_000)
        kill(build.pid, SIGINT)
        let status = build.wait()
        #expect(status == 130, "\(build.stderr)")
        #expect(build.stderr.contains("Interrupted by SIGINT"), "\(build.stderr)")
        #expect(!build.stderr.lowercased().contains("mirror"), "\(build.stderr)")
        #expect(!FileManager.default.fileExists(atPath: p.dir + "/image"))
        #expect(p.leftovers().isEmpty)
        #expect(try Self.mounts() == mountsBefore)
    }

    /// Two builds of one project at once: the second waits for the first, then finds its
    /// output; the output and the shared package cache stay usable.
    @Test func concurrentBuildsOfOneProjectWait() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nPackages=hello\n"])
        let first = try Running([mkosi, "build"], cwd: p.dir)
        #expect(first.waitFor("Building main image", timeout: 60), "\(first.stderr)")
        let second = try Running([mkosi, "build"], cwd: p.dir)
        #expect(second.waitFor("Waiting for the other mkosi building into", timeout: 30), "\(second.stderr)")
        #expect(first.wait() == 0, "\(first.stderr.suffix(2000))")
        #expect(second.wait() == 0, "\(second.stderr.suffix(2000))")
        #expect(second.stderr.contains("exists already"), "\(second.stderr)")
        #expect(FileManager.default.isExecutableFile(atPath: p.dir + "/image/usr/bin/hello"))
        // The cache the first build filled serves a third build.
        let third = try Shell.run([mkosi, "-f", "build"], cwd: p.dir)
        #expect(third.status == 0, "\(third.stderr.suffix(2000))")
        #expect(p.leftovers().isEmpty)
    }
}
