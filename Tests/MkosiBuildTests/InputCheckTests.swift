import Foundation
import MkosiConfig
import MkosiCore
import Testing
@testable import MkosiBuild

/// The plan of checks made before any work (`InputCheck`), against real files in a scratch
/// directory and a host whose tools the test decides.
@Suite struct InputCheckTests {
    /// A host with real files and the tools (name → systemd version) the test gives it.
    struct Facts: InputFacts {
        var tools: [String: Int] = [:]
        var root = true
        let host = HostInputFacts()
        func status(_ path: String) -> FS.Status? { host.status(path) }
        func isReadable(_ path: String) -> Bool { host.isReadable(path) }
        func isExecutable(_ path: String) -> Bool { host.isExecutable(path) }
        var isHostRoot: Bool { root }
        func findTool(_ names: [String], toolsTree: String?, searchPaths: [String]) -> String? { names.first { tools[$0] != nil } }
        func systemdVersion(_ path: String, toolsTree: String?, searchPaths: [String]) -> Int? { tools[path] }
        /// Pairs whose certificate file says "other" fail.
        func keyPairProblem(key: String, certificate: String, toolsTree: String?, searchPaths: [String]) -> String? {
            (try? String(contentsOfFile: certificate, encoding: .utf8)) == "other" ? "Certificate does not match private key" : nil
        }
    }

    final class Project {
        let dir: String
        init(_ files: [String: String], executable: Set<String> = []) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-inputs-\(UUID().uuidString)").path
            for (name, text) in files {
                let path = dir + "/" + name
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: executable.contains(name) ? 0o755 : 0o600], ofItemAtPath: path)
            }
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }

        func load(_ argv: [String] = []) throws -> LoadedConfiguration {
            try ConfigLoader.load(argv + ["build"], cwd: dir, resources: BuiltinResources())
        }

        /// The message of the error `verify` throws for the plan of every image, nil if none.
        func failure(_ argv: [String] = [], facts: Facts = Facts(), tools: Bool = true, madeBy: Bool = false) throws -> String? {
            let loaded = try load(argv)
            let plan = try InputCheck.plan(loaded.images, cwd: dir, defaultToolsTree: loaded.tools != nil)
                .filter { (tools || !$0.isTool) && ($0.madeBy != nil) == madeBy }
            do {
                try InputCheck.verify(plan, facts: facts)
                return nil
            } catch let e as MkosiError {
                return e.description
            }
        }
    }

    static let base = "[Distribution]\nDistribution=debian\nRelease=trixie\n"

    /// Kali has no snapshot service: `Snapshot=` is refused before any work, as upstream refuses
    /// it (which it does only once the repositories are set up), naming where it was set.
    @Test func kaliRefusesSnapshot() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=kali\nSnapshot=20250101T000000Z\n"])
        do {
            _ = try p.failure(tools: false)
            Issue.record("Snapshot= was not refused for Kali")
        } catch let e as MkosiError {
            #expect(e.code == .config && e.description.contains("Snapshot= (mkosi.conf:3) is not supported for Kali Linux"),
                    "\(e.description)")
        }
        let ubuntu = try Project(["mkosi.conf": "[Distribution]\nDistribution=ubuntu\nRelease=noble\nSnapshot=20250101T000000Z\n"])
        #expect(try ubuntu.failure(tools: false) == nil)
    }

    @Test func missingTreesAreNamedWithTheirLine() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nExtraTrees=missing-extra\n"
                                + "BaseTrees=missing-base\n"])
        let message = try #require(try p.failure())
        #expect(message.contains("mkosi.conf:7: \(p.dir)/missing-extra, named by ExtraTrees=, does not exist"), "\(message)")
        #expect(message.contains("mkosi.conf:8: \(p.dir)/missing-base, named by BaseTrees=, does not exist"), "\(message)")
        // Format=none copies no extra trees, as upstream.
        let none = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=none\n[Content]\nExtraTrees=missing\n",
                                "mkosi.build": "#!/bin/sh\n"], executable: ["mkosi.build"])
        #expect(try none.failure() == nil)
        // Present trees pass; a disk image without a target needs root.
        let ok = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nExtraTrees=tree\nExtraTrees=disk.raw\n",
                              "tree/etc/x": "x", "disk.raw": ""])
        #expect(try ok.failure() == nil)
        #expect(try ok.failure(facts: Facts(root: false))?.contains("disk.raw, named by ExtraTrees=, is a disk image, which needs root") == true)
    }

    @Test func autoDetectedTreeIsNamed() throws {
        // mkosi.extra exists when read, and is gone when checked.
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n", "mkosi.extra/etc/x": "x"])
        let loaded = try p.load()
        try FileManager.default.removeItem(atPath: p.dir + "/mkosi.extra")
        let plan = try InputCheck.plan(loaded.images, cwd: p.dir, defaultToolsTree: false)
        #expect(throws: MkosiError.self) { try InputCheck.verify(plan, facts: Facts()) }
        let extra = try #require(plan.first { $0.setting == "ExtraTrees=" })
        #expect(extra.location == "auto-detected mkosi.extra")
    }

    @Test func scriptsMustBeExecutableFiles() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nPostInstallationScripts=post.sh\n"
                                + "[Build]\nMakeScriptsExecutable=no\n",
                             "post.sh": "#!/bin/sh\n", "dir/x": ""])
        #expect(try p.failure()?.contains("mkosi.conf:7: \(p.dir)/post.sh, named by PostInstallationScripts=, is not executable") == true)
        // MakeScriptsExecutable=yes makes it so when it runs.
        #expect(try p.failure(["--make-scripts-executable=yes"]) == nil)
        // A directory is not a script, even one that is searchable.
        let message = try p.failure(["--make-scripts-executable=yes", "--finalize-script", p.dir + "/dir"])
        #expect(message?.contains("command line (--finalize-script): \(p.dir)/dir, named by FinalizeScripts=, is not a file") == true,
                "\(message ?? "")")
    }

    @Test func configureScriptThatIsNoFileIsRefused() throws {
        let p = try Project(["mkosi.conf": Self.base])
        let loaded = try p.load(["--configure-script", "/"])
        let requirements = InputCheck.configureScripts(loaded.images, cwd: p.dir)
        #expect(requirements.count == 1)
        let error = #expect(throws: MkosiError.self) { try InputCheck.verify(requirements, facts: Facts()) }
        #expect(error?.description == "command line (--configure-script): /, named by ConfigureScripts=, is not a file")
    }

    @Test func keysAndCertificatesMustBeReadable() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=disk\n[Validation]\nSecureBoot=yes\nSecureBootKey=missing.key\n"
                                + "SecureBootCertificate=sb.crt\nPassphrase=missing.pass\n",
                             "sb.crt": "cert"])
        let message = try #require(try p.failure(tools: false))
        #expect(message.contains("mkosi.conf:8: \(p.dir)/missing.key, named by SecureBootKey=, does not exist"), "\(message)")
        #expect(message.contains("mkosi.conf:10: \(p.dir)/missing.pass, named by Passphrase=, does not exist"), "\(message)")
        #expect(!message.contains("sb.crt"))
        // A key without its certificate is refused when the plan is made, naming the setting's line.
        let half = try Project(["mkosi.conf": Self.base + "[Validation]\nSignExpectedPcr=yes\nSignExpectedPcrKey=k.key\n", "k.key": "k"])
        let error = #expect(throws: MkosiError.self) { try InputCheck.plan(try half.load().images, cwd: half.dir, defaultToolsTree: false) }
        #expect(error?.message == "SignExpectedPcr=yes (mkosi.conf:5) is enabled but no certificate is configured")
    }

    @Test func keysAndCertificatesMustLoad() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=sysext\n[Validation]\nVerity=signed\nVerityKey=v.key\n"
                                + "VerityCertificate=v.crt\n", "v.key": "k", "v.crt": "other"])
        let loaded = try p.load()
        let plan = try InputCheck.plan(loaded.images, cwd: p.dir, defaultToolsTree: false)
        #expect(plan.filter(\.isTool).map(\.setting) == ["VerityKey="])
        let error = #expect(throws: MkosiError.self) { try InputCheck.verify(plan, facts: Facts(tools: ["systemd-repart": 257])) }
        #expect(error?.message == "mkosi.conf:8: \(p.dir)/v.key, named by VerityKey=, and the certificate \(p.dir)/v.crt fail "
                + "systemd-keyutil validate: Certificate does not match private key")
    }

    @Test func initrdsMustBeFiles() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=uki\n[Content]\nInitrds=dir\nInitrds=initrd.cpio\n",
                             "dir/x": "", "initrd.cpio": ""])
        let message = try #require(try p.failure(tools: false))
        #expect(message == "mkosi.conf:7: \(p.dir)/dir, named by Initrds=, is not a file" ||
                message.hasSuffix("\(p.dir)/dir, named by Initrds=, is not a file"), "\(message)")
    }

    @Test func toolsAndTheirVersions() throws {
        let disk = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=disk\n[Content]\nBootable=no\n"])
        let old = try #require(try disk.failure(facts: Facts(tools: ["systemd-repart": 252])))
        #expect(old.contains("mkosi.conf:5: Format= needs systemd-repart from systemd 254 or newer to build Format=disk images"), "\(old)")
        #expect(old.contains("this host has systemd 252"), "\(old)")
        #expect(try disk.failure(facts: Facts(tools: ["systemd-repart": 257])) == nil)

        // SecureBootAutoEnroll= needs bootctl 257, or efitools to write the keys instead, as
        // upstream; the location is where secure boot was asked for.
        let enroll = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nBootable=yes\n"
                                    + "[Validation]\nSecureBoot=yes\nSecureBootKey=sb.key\nSecureBootCertificate=sb.crt\n",
                                  "sb.key": "k", "sb.crt": "c"])
        let all: [String: Int] = ["ukify": 257, "bootctl": 257, "systemd-sbsign": 257, "systemd-measure": 257]
        #expect(try enroll.failure(facts: Facts(tools: all)) == nil)
        var older = all
        older["bootctl"] = 256
        let bootctl = try #require(try enroll.failure(facts: Facts(tools: older)))
        #expect(bootctl.contains("mkosi.conf:9: SecureBoot= needs sbsiglist to set up systemd-boot secure boot auto-enrollment "
                                 + "(bootctl older than systemd 257 cannot), and this host does not have it"), "\(bootctl)")
        #expect(try enroll.failure(["--secure-boot-auto-enroll=no"], facts: Facts(tools: older)) == nil)
        var efitools = older
        for tool in ["sbsiglist", "sbvarsign", "openssl"] { efitools[tool] = 0 }
        #expect(try enroll.failure(facts: Facts(tools: efitools)) == nil)
        // Format=esp installs systemd-boot without bootctl: efitools write the keys.
        let esp = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=esp\n"
                                + "[Validation]\nSecureBoot=yes\nSecureBootKey=sb.key\nSecureBootCertificate=sb.crt\n",
                               "sb.key": "k", "sb.crt": "c"])
        #expect(try esp.failure(facts: Facts(tools: all.merging(["systemd-repart": 257]) { a, _ in a }))?.contains("needs sbsiglist") == true)
        #expect(try esp.failure(facts: Facts(tools: efitools.merging(["systemd-repart": 257]) { a, _ in a })) == nil)
        var noSigner = all
        noSigner["systemd-sbsign"] = nil
        #expect(try enroll.failure(facts: Facts(tools: noSigner))?.contains("needs systemd-sbsign or sbsign to sign EFI binaries for SecureBoot=yes, and this host has neither") == true)

        // SignExpectedPcr=yes needs systemd-measure (ukify otherwise fails after the whole build).
        let pcr = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=uki\n[Validation]\nSignExpectedPcr=yes\n"
                                 + "SignExpectedPcrKey=pcr.key\nSignExpectedPcrCertificate=pcr.crt\n",
                               "pcr.key": "k", "pcr.crt": "c"])
        var noMeasure = all
        noMeasure["systemd-measure"] = nil
        let measure = try #require(try pcr.failure(facts: Facts(tools: noMeasure)))
        #expect(measure.contains("mkosi.conf:7: SignExpectedPcr= needs systemd-measure to sign the expected PCR values"), "\(measure)")
        #expect(measure.contains("this host does not have it"))
        #expect(try pcr.failure(facts: Facts(tools: all)) == nil)

        // UnifiedKernelImages=auto falls back to Type #1 entries without ukify, as upstream; UKIs
        // asked for need it.
        let type1 = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nBootable=yes\n"])
        var noUkify = all
        noUkify["ukify"] = nil
        #expect(try type1.failure(facts: Facts(tools: noUkify)) == nil)
        #expect(try type1.failure(["--unified-kernel-images=unsigned"], facts: Facts(tools: noUkify))?.contains("ukify") == true)

        // Bootable=auto depends on the image's kernel: its tools are checked when used.
        let auto = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\n"])
        #expect(try auto.failure(facts: Facts(tools: [:])) == nil)
    }

    /// A path an earlier image of the build outputs is checked only right before the image that
    /// needs it.
    @Test func outputsOfEarlierImagesAreCheckedLater() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=directory\nOutputDirectory=out\n[Content]\nBaseTrees=%O/base\nExtraTrees=%O/base.tar\n",
                             "mkosi.images/base.conf": "[Output]\nFormat=directory\n"])
        let loaded = try p.load()
        #expect(loaded.images.map(\.image) == ["base", "main"])
        let plan = try InputCheck.plan(loaded.images, cwd: p.dir, defaultToolsTree: false)
        let deferred = plan.filter { $0.madeBy != nil }
        #expect(deferred.map(\.setting) == ["ExtraTrees=", "BaseTrees="])
        #expect(deferred.allSatisfy { $0.madeBy == "base" && $0.image == "main" })
        #expect(try p.failure(tools: false) == nil)
        #expect(try p.failure(tools: false, madeBy: true)?.contains("(the base image was to make it)") == true)
    }

    @Test func versionsAreRead() {
        #expect(HostInputFacts.parseSystemdVersion("systemd 252 (252.39-1~deb12u2)\n+PAM +AUDIT") == 252)
        #expect(HostInputFacts.parseSystemdVersion("ukify 257.9\n") == 257)
        #expect(HostInputFacts.parseSystemdVersion("") == nil)
    }
}
