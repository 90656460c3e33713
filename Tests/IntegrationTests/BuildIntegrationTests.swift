import Foundation
import Testing
import TestSupport

/// Real builds of Debian trixie images against the real mirror. They need root (and run as
/// root in CI); set MKOSI_SKIP_INTEGRATION=1 to skip them. All builds share one package cache so
/// that only the first downloads.
@Suite(.serialized, .enabled(if: getuid() == 0 && ProcessInfo.processInfo.environment["MKOSI_SKIP_INTEGRATION"] != "1",
                             "needs root and the Debian mirror"))
struct BuildIntegrationTests {
    static let packageCache = "/var/tmp/mkosi-integration-pkgcache"
    let mkosi = Binary.locate()

    /// A scratch project with its own workspace directory, so leftovers can be checked.
    final class Project {
        let dir: String
        var workspace: String { dir + "/workspace" }

        init(_ files: [String: String], executable: Set<String> = []) throws {
            dir = "/var/tmp/mkosi-integration-\(UUID().uuidString)"
            let fm = FileManager.default
            try fm.createDirectory(atPath: dir + "/workspace", withIntermediateDirectories: true)
            var all = files
            all["mkosi.conf.d/00-test.conf"] = "[Build]\nWorkspaceDirectory=\(dir)/workspace\nPackageCacheDirectory=\(BuildIntegrationTests.packageCache)\n"
            for (name, content) in all {
                let path = dir + "/" + name
                try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try content.write(toFile: path, atomically: true, encoding: .utf8)
                if executable.contains(name) { try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
            }
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        func leftovers() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: workspace)) ?? ["?"] }
    }

    static func mounts() throws -> Int {
        try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).split(separator: "\n").count
    }

    static let base = "[Distribution]\nDistribution=debian\nRelease=trixie\n"

    @Test func directoryImageWithExtraTreeAndPostinst() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nPackages=hello kmod\n",
            "mkosi.extra/etc/extra-file": "from mkosi.extra\n",
            // A kernel module directory without indexes: depmod must create them.
            "mkosi.extra/usr/lib/modules/6.1.0-mkosi/kernel/dummy.ko": "not a real module\n",
            // Progress redrawn with carriage returns, as tools print it on a terminal.
            "mkosi.postinst.chroot": "#!/bin/sh\nset -e\nhello > /etc/hello-output\nprintf 'postinst 10%%\\rpostinst 100%%\\n'\n",
        ], executable: ["mkosi.postinst.chroot"])
        let mountsBefore = try Self.mounts()
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        // The log tells the story: each line of ours names its image, the step comes before
        // what its tool printed, no carriage return reaches the (non-terminal) log, and the
        // build ends with the output, its size and the time.
        let log = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLast()
        let ours = log.filter { $0.hasPrefix("‣") }
        #expect(!ours.isEmpty && ours.allSatisfy { $0.hasPrefix("‣ [main] ") }, "\(ours)")
        #expect(!r.stderr.contains("\r"))
        let step = log.firstIndex(of: "‣ [main] Running mkosi.postinst.chroot final")
        let output = log.firstIndex(of: "postinst 100%")
        #expect(step != nil && output != nil && step! < output!, "\(log)")
        let size = #"\(\d+\.\d (KiB|MiB|GiB)\) in (\d+\.\ds|\d+m \d+s)"#
        #expect(ours.contains { $0.wholeMatch(of: try! Regex(#"‣ \[main\] Wrote image "# + size)) != nil }, "\(ours)")
        #expect(log.last?.wholeMatch(of: try! Regex(#"‣ \[main\] Built 1 image in (\d+\.\ds|\d+m \d+s): image \(\d+\.\d (KiB|MiB|GiB)\)"#)) != nil,
                "\(log.last ?? "")")
        let image = p.dir + "/image"
        #expect(FileManager.default.fileExists(atPath: image + "/usr/lib/os-release"))
        #expect(try String(contentsOfFile: image + "/etc/extra-file", encoding: .utf8) == "from mkosi.extra\n")
        #expect(try String(contentsOfFile: image + "/etc/hello-output", encoding: .utf8) == "Hello, world!\n")
        #expect(FileManager.default.isExecutableFile(atPath: image + "/usr/bin/hello"))
        #expect(FileManager.default.fileExists(atPath: image + "/usr/lib/modules/6.1.0-mkosi/modules.dep.bin"))
        #expect(!FileManager.default.fileExists(atPath: image + "/work"))
        #expect(!FileManager.default.fileExists(atPath: image + "/usr/sbin/policy-rc.d"))
        #expect(p.leftovers().isEmpty, "workspace left behind: \(p.leftovers())")
        #expect(try Self.mounts() == mountsBefore)

        // An existing output is kept without -f.
        let again = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(again.status == 0 && again.stderr.contains("exists already"))
    }

    /// A second `-i` build reuses the cached image and is faster; another package list does not.
    @Test func incrementalBuildsReuseTheCache() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Build]\nCacheDirectory=cache\n",
                             "mkosi.build": "#!/bin/sh\necho build-script-ran-$1\n"], executable: ["mkosi.build"])
        func build(_ extra: [String]) throws -> (Shell.Result, TimeInterval) {
            let start = Date()
            let r = try Shell.run([mkosi, "-i", "-f"] + extra + ["build"], cwd: p.dir)
            return (r, Date().timeIntervalSince(start))
        }
        let (first, cold) = try build([])
        #expect(first.status == 0 && !first.stderr.contains("Reusing the cached image"))
        let (second, warm) = try build([])
        #expect(second.status == 0 && second.stderr.contains("Reusing the cached image"), "\(second.stderr.suffix(1000))")
        #expect(warm < cold, "cached build took \(warm) s, the first \(cold) s")
        #expect(!second.stderr.contains("Syncing the repository metadata"), "metadata synced although the cache is valid")
        // -R runs only the build scripts again, on the cached image.
        let rerun = try Shell.run([mkosi, "-i", "-R", "build", "--", "again"], cwd: p.dir)
        // Scripts print below their step on standard error, as upstream.
        #expect(rerun.status == 0 && rerun.stderr.contains("build-script-ran-again"), "\(rerun.stderr.suffix(1000))")
        #expect(rerun.stderr.contains("Reusing the cached image") && !rerun.stderr.contains("Wrote "))
        let (third, _) = try build(["-p", "hello"])
        #expect(third.status == 0 && !third.stderr.contains("Reusing the cached image"))
        #expect(FileManager.default.fileExists(atPath: p.dir + "/image/usr/bin/hello"))
    }

    /// Packages from `mkosi.packages/` are installed from a local repository.
    @Test func localPackagesFromPackageDirectories() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nPackages=mkosi-local-test\n",
            "pkg/DEBIAN/control": "Package: mkosi-local-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: test\n",
            "pkg/usr/share/mkosi-local-test/marker": "local package\n",
        ])
        try FileManager.default.createDirectory(atPath: p.dir + "/mkosi.packages", withIntermediateDirectories: true)
        #expect(try Shell.run(["dpkg-deb", "--build", "pkg", "mkosi.packages/mkosi-local-test_1.0_all.deb"], cwd: p.dir).status == 0)
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(try String(contentsOfFile: p.dir + "/image/usr/share/mkosi-local-test/marker", encoding: .utf8) == "local package\n")
    }

    /// A configure script receives the configuration as JSON and prints a modified one.
    @Test func configureScriptChangesTheConfiguration() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=tar\n",
            "mkosi.configure": "#!/usr/bin/python3\nimport json, sys\nc = json.load(sys.stdin)\nc['Packages'].append('hello')\nc['ImageId'] = 'configured'\nprint(json.dumps(c))\n",
        ], executable: ["mkosi.configure"])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        let list = try Shell.run(["tar", "-tf", p.dir + "/image.tar.zst"])
        #expect(list.stdout.contains("./usr/bin/hello\n"))
        let osRelease = try Shell.run(["sh", "-c", "tar -xOf image.tar.zst ./usr/lib/os-release"], cwd: p.dir)
        #expect(osRelease.stdout.contains("IMAGE_ID=\"configured\""), "\(osRelease.stdout)")
    }

    /// A package a build script leaves in $PACKAGEDIR is installed by VolatilePackages=.
    @Test func packagesBuiltByScriptsAreInstallable() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nVolatilePackages=built-here\n",
            "mkosi.build.chroot": """
                #!/bin/sh
                set -e
                mkdir -p /tmp/p/DEBIAN /tmp/p/usr/share/built-here
                printf 'Package: built-here\\nVersion: 1\\nArchitecture: all\\nMaintainer: t <t@example.com>\\nDescription: t\\n' > /tmp/p/DEBIAN/control
                echo built > /tmp/p/usr/share/built-here/marker
                dpkg-deb --build /tmp/p "$PACKAGEDIR/built-here_1_all.deb"

                """,
        ], executable: ["mkosi.build.chroot"])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(try String(contentsOfFile: p.dir + "/image/usr/share/built-here/marker", encoding: .utf8) == "built\n")
        #expect(p.leftovers().isEmpty, "\(p.leftovers())")
    }

    @Test func tarOutputListsTheImage() throws {
        // A script outside the image uses the helper commands to enter it and to install a package.
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=tar\n", "mkosi.extra/srv/marker": "x",
            "mkosi.postinst": "#!/bin/sh\nset -e\nmkosi-chroot sh -c 'echo ok > /srv/chroot-marker'\nmkosi-install hello\n",
            // Scripts in .d/ folders run in the order of their names, .chroot ones inside the image.
            "mkosi.finalize.d/10-first": "#!/bin/sh\necho first >> \"$BUILDROOT/srv/order\"\n",
            "mkosi.finalize.d/20-second.chroot": "#!/bin/sh\necho second >> /srv/order\n",
        ], executable: ["mkosi.postinst", "mkosi.finalize.d/10-first", "mkosi.finalize.d/20-second.chroot"])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: p.dir + "/image")) == "image.tar.zst")
        let list = try Shell.run(["tar", "-tf", p.dir + "/image.tar.zst"])
        for path in ["./usr/lib/os-release", "./srv/marker", "./etc/machine-id", "./usr/bin/bash", "./srv/chroot-marker",
                     "./usr/bin/hello"] {
            #expect(list.stdout.contains(path + "\n"), "\(path) missing from the tar output")
        }
        #expect(try Shell.run(["tar", "-xOf", p.dir + "/image.tar.zst", "./srv/order"]).stdout == "first\nsecond\n")

        let cpio = try Shell.run([mkosi, "-f", "-t", "cpio", "--checksum=yes", "build"], cwd: p.dir)
        #expect(cpio.status == 0, "\(cpio.stderr.suffix(2000))")
        let entries = try Shell.run(["sh", "-c", "zstd -dc image.cpio.zst | cpio -t --quiet"], cwd: p.dir)
        for path in ["usr/lib/os-release", "srv/marker", "usr/bin/bash"] {
            #expect(entries.stdout.contains(path + "\n"), "\(path) missing from the cpio output")
        }
        #expect(try Shell.run(["sha256sum", "-c", "image.SHA256SUMS"], cwd: p.dir).status == 0)
    }

    @Test func missingPackageFailsClearlyAndLeavesNothing() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nPackages=no-such-package-mkosi-test\n"])
        let mountsBefore = try Self.mounts()
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status != 0)
        #expect(r.stderr.contains("apt-get install no-such-package-mkosi-test\" failed with exit status 100"), "\(r.stderr.suffix(1000))")
        // apt's own words, kept while it ran, are shown because it failed, below its step.
        let log = r.stderr.split(separator: "\n").map(String.init)
        let said = log.firstIndex { $0.contains("Unable to locate package no-such-package-mkosi-test") }
        let step = log.firstIndex { $0.hasPrefix("‣ [main] Installing") }
        #expect(said != nil && step != nil && step! < said!, "\(r.stderr.suffix(1000))")
        #expect(!FileManager.default.fileExists(atPath: p.dir + "/image"))
        #expect(p.leftovers().isEmpty)
        #expect(try Self.mounts() == mountsBefore)
    }

    @Test func unreachableMirrorFailsAtTheUpdate() throws {
        let p = try Project(["mkosi.conf": Self.base + "Mirror=http://127.0.0.1:9\n[Output]\nFormat=directory\n"])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status != 0)
        #expect(r.stderr.contains("apt-get update --error-on=any\" failed with exit status 100"), "\(r.stderr.suffix(1000))")
        #expect(r.stderr.contains("Check that the mirror"))
        #expect(p.leftovers().isEmpty)
    }

    @Test func failingScriptNamesItselfAndKeepsThePreviousOutput() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=tar\n",
            "mkosi.finalize": "#!/bin/sh\nexit 7\n",
            "image.tar.zst": "previous output\n",
        ], executable: ["mkosi.finalize"])
        let r = try Shell.run([mkosi, "-f", "build"], cwd: p.dir)
        #expect(r.status == 7)
        #expect(r.stderr.contains("\(p.dir)/mkosi.finalize failed with exit status 7"), "\(r.stderr.suffix(1000))")
        #expect(try String(contentsOfFile: p.dir + "/image.tar.zst", encoding: .utf8) == "previous output\n")
        #expect(p.leftovers().isEmpty)
    }

    static let dbusTar = base + "[Output]\nFormat=tar\n[Content]\nPackages=dbus\n"

    /// A project for `uid`:`gid` with its own copy of the shared package cache (which belongs
    /// to root), owned by them.
    func userProject(uid: String, gid: String) throws -> Project {
        let p = try Project(["mkosi.conf": Self.dbusTar, "mkosi.conf.d/99-own-cache.conf": "[Build]\nPackageCacheDirectory=pkgcache\n"])
        #expect(try Shell.run(["cp", "-a", Self.packageCache + "/.", p.dir + "/pkgcache"]).status == 0)
        #expect(try Shell.run(["chown", "-R", "\(uid):\(gid)", p.dir]).status == 0)
        return p
    }

    func runAs(uid: String, gid: String, _ args: [String], in p: Project) throws -> Shell.Result {
        try Shell.run(["setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--inh-caps=-all",
                       "env", "HOME=\(p.dir)", mkosi] + args, cwd: p.dir)
    }

    /// Runs `body` with the UID and GID of a regular user who has a subordinate ID range of
    /// 65536 IDs in /etc/subuid and /etc/subgid; the user is removed afterwards.
    func withSubordinateUser(_ body: (String, String) throws -> Void) throws {
        let user = "mkosi-subuid"
        if try Shell.run(["id", "-u", user]).status != 0 {
            #expect(try Shell.run(["useradd", "--no-create-home", user]).status == 0)
        }
        defer { _ = try? Shell.run(["userdel", user]) }
        if try Shell.run(["grep", "-q", "^\(user):", "/etc/subuid"]).status != 0 {
            #expect(try Shell.run(["usermod", "--add-subuids", "400000-465535", "--add-subgids", "400000-465535", user]).status == 0)
        }
        let uid = try Shell.run(["id", "-u", user]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let gid = try Shell.run(["id", "-g", user]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try body(uid, gid)
    }

    /// Mode, numeric owner and path of every member of a tar, sorted.
    static func tarOwners(_ tar: String) throws -> [String] {
        let r = try Shell.run(["tar", "-tv", "--numeric-owner", "-f", tar])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").map { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            return f.count >= 6 ? "\(f[0]) \(f[1]) \(f[5])" : String(line)
        }.sorted()
    }

    /// As a regular user with a subordinate ID range, the build runs as root of a user namespace
    /// mapping it: a tar of dbus lists exactly the owners and modes of the same build as root,
    /// the output belongs to the user, and `mkosi clean` removes it.
    @Test func unprivilegedBuildKeepsOwnership() throws {
        try withSubordinateUser { uid, gid in try unprivilegedBuildKeepsOwnership(uid: uid, gid: gid) }
    }

    func unprivilegedBuildKeepsOwnership(uid: String, gid: String) throws {
        let asRoot = try Project(["mkosi.conf": Self.dbusTar])
        let r0 = try Shell.run([mkosi, "build"], cwd: asRoot.dir)
        #expect(r0.status == 0, "\(r0.stderr.suffix(2000))")

        let p = try userProject(uid: uid, gid: gid)
        let r = try runAs(uid: uid, gid: gid, ["build"], in: p)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(!r.stderr.contains("flattened"))
        let owners = try Self.tarOwners(p.dir + "/image.tar.zst")
        #expect(owners == (try Self.tarOwners(asRoot.dir + "/image.tar.zst")))
        #expect(owners.contains("-rw-r----- 0/42 ./etc/shadow"), "\(owners.filter { $0.hasSuffix("shadow") })")
        #expect(owners.contains { $0.hasPrefix("-rwsr-xr-- 0/101 ") && $0.hasSuffix("/dbus-daemon-launch-helper") })
        let attributes = try FileManager.default.attributesOfItem(atPath: p.dir + "/image.tar.zst")
        #expect((attributes[.ownerAccountID] as? Int).map(String.init) == uid)
        #expect(p.leftovers().isEmpty)

        let clean = try runAs(uid: uid, gid: gid, ["clean"], in: p)
        #expect(clean.status == 0, "\(clean.stderr.suffix(1000))")
        #expect(!FileManager.default.fileExists(atPath: p.dir + "/image.tar.zst"))
    }

    /// Without a subordinate range (nobody has none), the build still works, in one-user
    /// namespaces, and says first that every file will be owned by root.
    @Test func unprivilegedBuildWithoutARangeFlattensOwnership() throws {
        let p = try userProject(uid: "65534", gid: "65534")
        let r = try runAs(uid: "65534", gid: "65534", ["build"], in: p)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("ownership will be flattened, every file of the image will be owned by root "
                                  + "(/etc/subuid has no range of at least 65536 IDs for nobody)"), "\(r.stderr.prefix(1000))")
        let owners = try Self.tarOwners(p.dir + "/image.tar.zst")
        #expect(owners.contains("-rw-r----- 0/0 ./etc/shadow"))
        #expect(owners.allSatisfy { $0.split(separator: " ")[1] == "0/0" })
        #expect(p.leftovers().isEmpty)
    }

    /// `mkosi shell` runs a command in the image; `mkosi boot` boots it to the login prompt.
    @Test func shellAndBootWithSystemdNspawn() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nPackages=systemd\n[Runtime]\nMachine=mkosi-test\n",
                             "mkosi.extra/etc/marker": "inside the image\n"])
        let notBuilt = try Shell.run([mkosi, "shell", "--", "true"], cwd: p.dir)
        #expect(notBuilt.status == 1 && notBuilt.stderr.contains("has not been built yet"))

        let shell = try Shell.run([mkosi, "-f", "shell", "--", "cat", "/etc/marker"], cwd: p.dir)
        #expect(shell.status == 0, "\(shell.stderr.suffix(2000))")
        #expect(shell.stdout.contains("inside the image"))

        // Boot, wait for the login prompt, then stop mkosi: nspawn must not outlive it.
        let log = p.dir + "/boot.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let boot = Process()
        boot.executableURL = URL(fileURLWithPath: mkosi)
        boot.arguments = ["boot"]
        boot.currentDirectoryURL = URL(fileURLWithPath: p.dir)
        boot.standardOutput = out
        boot.standardError = out
        boot.standardInput = FileHandle.nullDevice
        try boot.run()
        let deadline = Date().addingTimeInterval(120)
        var text = ""
        while Date() < deadline && boot.isRunning {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("login:") { break }
            usleep(200_000)
        }
        #expect(text.contains("login:"), "no login prompt: \(text.suffix(2000))")
        boot.terminate()
        boot.waitUntilExit()
        let leftovers = try Shell.run(["pgrep", "-f", "systemd-nspawn.*mkosi-test"])
        #expect(leftovers.stdout.isEmpty, "systemd-nspawn outlived mkosi")
    }
}
