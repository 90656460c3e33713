import Foundation
import Testing
import TestSupport

/// The local repositories of scripts/test-repository (real Debian trixie packages repackaged
/// under each distribution's names, signed with a throwaway key), built once per test run and
/// served on 127.0.0.1 until the tests end.
enum LocalRepositories {
    static let directory = "/var/tmp/mkosi-integration-repositories"
    nonisolated(unsafe) static var server: pid_t = 0

    /// The port, nil when the repositories could not be built (the failure is printed).
    static let port: Int? = {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let script = root.appendingPathComponent("scripts/test-repository").path
        let built = try? Shell.run([script, "build", "--output", directory])
        guard built?.status == 0 else {
            print("building the test repositories failed: \(built?.stderr.suffix(3000) ?? "")")
            return nil
        }
        let portFile = directory + ".port"
        try? FileManager.default.removeItem(atPath: portFile)
        // The server exits with this test process (or after an hour at the latest).
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: "/bin/sh")
        serve.arguments = ["-c", "exec timeout 3600 \(script) serve \(directory) --exit-with \(getpid()) > \(portFile)"]
        serve.standardError = FileHandle.nullDevice
        guard (try? serve.run()) != nil else { return nil }
        server = serve.processIdentifier
        atexit { if LocalRepositories.server > 0 { kill(LocalRepositories.server, SIGTERM) } }
        for _ in 0..<100 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.split(separator: "\n").first ?? "") {
                return port
            }
            usleep(100_000)
        }
        return nil
    }()

    /// `Mirror=` for a distribution's repositories.
    static func mirror(_ distribution: String) -> String? { port.map { "http://127.0.0.1:\($0)/\(distribution)" } }

    /// Copies the distribution's mkosi.sandbox/ (the test key where its package manager looks
    /// for keys) into `project`.
    static func installKeys(_ distribution: String, into project: String) throws {
        let r = try Shell.run(["cp", "-a", "\(directory)/\(distribution)/mkosi.sandbox", project + "/"])
        guard r.status == 0 else { throw MkosiTestError.failed("copying the test keys: \(r.stderr)") }
    }
}

enum MkosiTestError: Error { case failed(String) }

/// Images of other distributions, built from the local repositories with the shared tools tree
/// (dnf, zypper and pacman from Debian's packages): only Mirror= and the test key differ from a
/// user's configuration.
extension BuildIntegrationTests {
    /// For one distribution: a wrongly signed repository is refused (RepositoryKeyCheck=yes,
    /// the default), then with the test key a directory image builds with its own package
    /// manager, RemovePackages= removes a package, the manifest lists the package database,
    /// `mkosi shell` runs a command in it, and a rebuild with CacheOnly=always finds every
    /// package in the package cache.
    ///
    /// - Parameters:
    ///   - sources: files to add to the project given the mirror URL (in both builds), used
    ///     instead of `Mirror=` when there are any.
    ///   - scriptlet: whether the packages' install scriptlet leaves its marker (the rpm and
    ///     pacman packages of the test repositories have one).
    func roundTrip(_ distribution: String, release: String, id: String, packages: [String], remove: String,
                   refusal: String, sources: (String) -> [String: String] = { _ in [:] }, scriptlet: Bool = true) throws {
        let mirror = try #require(LocalRepositories.mirror(distribution), "the local repositories are not available")
        let extra = sources(mirror)
        let conf = "[Distribution]\nDistribution=\(distribution)\nRelease=\(release)\n" + (extra.isEmpty ? "Mirror=\(mirror)\n" : "")
            + "[Output]\nFormat=directory\nManifestFormat=json\n"
            + "[Content]\nPackages=\(packages.joined(separator: ","))\nRemovePackages=\(remove)\nBootable=no\n" + withTools

        let unsigned = try Project(extra.merging(["mkosi.conf": conf]) { $1 })
        let refused = try Shell.run([mkosi, "build"], cwd: unsigned.dir)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains(refusal) && refused.stderr.contains("failed with exit status"),
                "\(refused.stderr.suffix(2000))")
        #expect(unsigned.leftovers().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: unsigned.dir + "/image"))

        let p = try Project(extra.merging(["mkosi.conf": conf]) { $1 })
        try LocalRepositories.installKeys(distribution, into: p.dir)
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let osRelease = (try? String(contentsOfFile: p.dir + "/image/usr/lib/os-release", encoding: .utf8)) ?? ""
        #expect(osRelease.contains("ID=\(id)\n") || osRelease.contains("ID=\"\(id)\"\n"), "\(osRelease)")
        if scriptlet {
            #expect(FileManager.default.fileExists(atPath: p.dir + "/image/etc/mkosi-test-scriptlet-ran"), "the scriptlet did not run")
        }
        let manifest = (try? String(contentsOfFile: p.dir + "/image.manifest", encoding: .utf8)) ?? ""
        #expect(manifest.contains("\"name\": \"systemd\""), "systemd missing from the manifest")
        #expect(!manifest.contains("\"name\": \"\(remove)\""), "\(remove) was not removed")
        #expect(p.leftovers().isEmpty)

        let shell = try Shell.run([mkosi, "shell", "--", "bash", "-c", "echo $((6*7)) $(. /usr/lib/os-release; echo $ID)"], cwd: p.dir)
        #expect(shell.status == 0, "\(shell.stderr.suffix(2000))")
        #expect(shell.stdout.contains("42 \(id)"), "\(shell.stdout)")

        let cached = try Shell.run([mkosi, "--cache-only=always", "-f", "build"], cwd: p.dir)
        #expect(cached.status == 0, "the rebuild did not find its packages in the cache: \(cached.stderr.suffix(3000))")
    }

    @Test func fedoraFromALocalMirror() throws {
        try roundTrip("fedora", release: "42", id: "fedora", packages: ["systemd", "bash", "less"], remove: "less",
                      refusal: "GPG check FAILED")
    }
}

extension BuildIntegrationTests {
    /// The seed's example, `mkosi -d DISTRIBUTION -p systemd -p udev -p KERNEL -t disk vm`, with
    /// the local mirror and the test key added: a bootable disk with a UKI and the default
    /// initrd (built from the same repositories), booted in qemu to the login prompt.
    func seedExampleBoots(_ distribution: String, release: String, kernel: String) throws {
        let mirror = try #require(LocalRepositories.mirror(distribution), "the local repositories are not available")
        let p = try Project([:])
        try LocalRepositories.installKeys(distribution, into: p.dir)
        let argv = [mkosi, "-d", distribution, "-r", release, "--mirror=\(mirror)", "--tools-tree=\(Self.toolsTree)",
                    "-p", "systemd", "-p", "udev", "-p", kernel, "-t", "disk", "-f", "vm"]
        let (booted, text) = try runUntil(argv, cwd: p.dir, marker: "login:", timeout: 600)
        #expect(booted, "no login prompt: \(text.suffix(3000))")
        for artifact in ["image.raw", "image.efi", "image.initrd"] {
            #expect(FileManager.default.fileExists(atPath: p.dir + "/" + artifact), "\(artifact) missing")
        }
        #expect(p.leftovers().isEmpty)
    }

    @Test func fedoraSeedExampleBoots() throws {
        try seedExampleBoots("fedora", release: "42", kernel: "kernel")
    }
}

extension BuildIntegrationTests {
    @Test func archFromALocalMirror() throws {
        try roundTrip("arch", release: "rolling", id: "arch", packages: ["systemd", "bash", "less"], remove: "less",
                      refusal: "signature")
    }

    @Test func archSeedExampleBoots() throws {
        try seedExampleBoots("arch", release: "rolling", kernel: "linux")
    }
}

extension BuildIntegrationTests {
    @Test func centOSFromALocalMirror() throws {
        try roundTrip("centos", release: "10", id: "centos", packages: ["systemd", "bash", "less"], remove: "less",
                      refusal: "GPG check FAILED")
    }

    @Test func openSUSEFromALocalMirror() throws {
        try roundTrip("opensuse", release: "tumbleweed", id: "opensuse-tumbleweed", packages: ["systemd", "bash", "less"],
                      remove: "less", refusal: "Signature verification failed")
    }

    /// Ubuntu's security suite is never mirrored (upstream's rule), so the local repository is
    /// given as the project's own apt sources, with the test key as Ubuntu's keyring; without
    /// that keyring the tools' real one rejects the repository.
    @Test func ubuntuFromALocalRepository() throws {
        try roundTrip("ubuntu", release: "noble", id: "ubuntu", packages: ["systemd", "bash", "less"], remove: "less",
                      refusal: "Missing key", sources: { mirror in
                          ["mkosi.sandbox/etc/apt/sources.list.d/local.sources":
                            "Types: deb\nURIs: \(mirror)\nSuites: noble noble-updates noble-security\nComponents: main\n"
                            + "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n"]
                      }, scriptlet: false)
    }

    /// postmarketOS needs apk, which Debian does not package: the build stops before anything
    /// is downloaded, naming the program and the package, and leaves nothing behind.
    @Test func postmarketOSWithoutApkIsRefused() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=postmarketos\n[Output]\nFormat=directory\n" + withTools])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("Building postmarketOS needs apk") && r.stderr.contains("apk-tools"), "\(r.stderr.suffix(1000))")
        #expect(p.leftovers().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: p.dir + "/image"))
    }
}

extension BuildIntegrationTests {
    /// dnf's and pacman's failures are named with their command line and exit status, the hint
    /// says where to look, and nothing is left behind; the shared package cache stays usable
    /// (the other tests build from it afterwards).
    @Test func packageManagerErrorsAreClear() throws {
        let fedora = try #require(LocalRepositories.mirror("fedora"), "the local repositories are not available")
        let arch = try #require(LocalRepositories.mirror("arch"), "the local repositories are not available")
        let cases: [(distribution: String, mirror: String, packages: String, expected: [String])] = [
            ("fedora", fedora, "no-such-package", ["Unable to find a match: no-such-package", "\"dnf ", "install no-such-package\" failed with exit status 1"]),
            ("fedora", "http://127.0.0.1:9", "systemd", ["makecache", "failed with exit status 1", "Check that the mirror"]),
            ("arch", arch, "no-such-package", ["target not found: no-such-package", "\"pacman ", "failed with exit status 1"]),
        ]
        for c in cases {
            let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=\(c.distribution)\nMirror=\(c.mirror)\n"
                                 + "[Output]\nFormat=directory\n[Content]\nPackages=\(c.packages)\n" + withTools])
            try LocalRepositories.installKeys(c.distribution, into: p.dir)
            let r = try Shell.run([mkosi, "build"], cwd: p.dir)
            #expect(r.status == 1, "\(c)")
            for text in c.expected { #expect(r.stderr.contains(text), "\(text) missing: \(r.stderr.suffix(1500))") }
            #expect(p.leftovers().isEmpty)
            #expect(!FileManager.default.fileExists(atPath: p.dir + "/image"))
        }
    }
}

extension BuildIntegrationTests {
    /// A package of our own in mkosi.packages/ (an rpm made with rpmbuild, a pacman package made
    /// with tar), installed from the local repository; `BuildPackages=` only in the build
    /// overlay (the build script sees less, the image and its database do not); and a
    /// post-installation script using `mkosi-install` and the package manager's wrapper (`rpm`,
    /// `pacman`) on the image.
    @Test(arguments: ["fedora", "arch"]) func localPackagesBuildOverlayAndHelpers(_ distribution: String) throws {
        let mirror = try #require(LocalRepositories.mirror(distribution), "the local repositories are not available")
        let query = distribution == "fedora" ? "rpm -q" : "pacman -Q"
        let p = try Project([
            "mkosi.conf": "[Distribution]\nDistribution=\(distribution)\nMirror=\(mirror)\n"
                + (distribution == "fedora" ? "Release=42\n" : "")
                + "[Output]\nFormat=directory\nManifestFormat=json\n"
                + "[Content]\nPackages=systemd,bash,mkosi-local-test\nBuildPackages=less\nBootable=no\n"
                + "[Build]\nWithNetwork=yes\n" + withTools,
            "mkosi.build": "#!/bin/sh\nset -e\ntest -x /buildroot/usr/bin/less && echo BUILD-HAS-LESS\n",
            "mkosi.postinst": "#!/bin/sh\nset -e\nmkosi-install gzip\n\(query) gzip mkosi-local-test && echo POSTINST-OK\n",
        ], executable: ["mkosi.build", "mkosi.postinst"])
        try LocalRepositories.installKeys(distribution, into: p.dir)
        let packages = p.dir + "/mkosi.packages"
        let payload = p.dir + "/payload"
        try FileManager.default.createDirectory(atPath: payload + "/usr/share/mkosi-local-test", withIntermediateDirectories: true)
        try "local\n".write(toFile: payload + "/usr/share/mkosi-local-test/marker", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: packages, withIntermediateDirectories: true)
        if distribution == "fedora" {
            let spec = "Name: mkosi-local-test\nVersion: 1\nRelease: 1\nSummary: t\nLicense: MIT\nBuildArch: noarch\n%description\nt\n"
                + "%install\ncp -a \(payload)/. %{buildroot}/\n%files\n/usr/share/mkosi-local-test/marker\n"
            try spec.write(toFile: p.dir + "/t.spec", atomically: true, encoding: .utf8)
            let r = try Shell.run(["rpmbuild", "-bb", "--quiet", "--define", "_topdir \(p.dir)/rpmbuild", "--define", "_rpmdir \(packages)",
                                   "--define", "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm", p.dir + "/t.spec"])
            #expect(r.status == 0, "\(r.stderr)")
        } else {
            try "pkgname = mkosi-local-test\npkgbase = mkosi-local-test\npkgver = 1-1\npkgdesc = t\nbuilddate = 1735689600\nsize = 6\narch = any\n"
                .write(toFile: payload + "/.PKGINFO", atomically: true, encoding: .utf8)
            let r = try Shell.run(["tar", "--zstd", "-C", payload, "-cf", packages + "/mkosi-local-test-1-1-any.pkg.tar.zst", ".PKGINFO", "usr"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let output = r.stdout + r.stderr
        #expect(output.contains("BUILD-HAS-LESS") && output.contains("POSTINST-OK"), "\(output.suffix(3000))")
        let image = p.dir + "/image"
        #expect((try? String(contentsOfFile: image + "/usr/share/mkosi-local-test/marker", encoding: .utf8)) == "local\n")
        #expect(!FileManager.default.fileExists(atPath: image + "/usr/bin/less"), "BuildPackages= leaked into the image")
        #expect(FileManager.default.fileExists(atPath: image + "/usr/bin/gzip"))
        // The package database (as the manifest reads it) has the local package and not less.
        let manifest = (try? String(contentsOfFile: p.dir + "/image.manifest", encoding: .utf8)) ?? ""
        #expect(manifest.contains("\"name\": \"mkosi-local-test\"") && !manifest.contains("\"name\": \"less\""), "\(manifest)")
        #expect(p.leftovers().isEmpty)
    }
}
