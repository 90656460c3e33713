import Foundation
import TestSupport
import Testing

/// The verbs that need no image, run through the built binary.
@Suite struct CommandTests {
    let mkosi = Binary.locate()

    final class Dir {
        let path: String
        init(_ files: [String: String]) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-cmd-\(UUID().uuidString)").path
            for (name, content) in files {
                let full = path + "/" + name
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try content.write(toFile: full, atomically: true, encoding: .utf8)
            }
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func run(_ args: [String], in dir: String = "/") throws -> Shell.Result {
        try Shell.run([mkosi] + args, cwd: dir)
    }

    /// systemd's configuration starts with `MinimumVersion=commit:…`: accepted with a warning. In
    /// `mkosi box`, `ToolsTree=default` is the box's tools tree, as upstream.
    @Test func commitMinimumVersionAndToolsTreeInTheBox() throws {
        let d = try Dir(["mkosi.conf": "[Config]\nMinimumVersion=commit:f7762b71437227922a367bb89597843c77494ef9\n"
                            + "[Build]\nToolsTree=default\n"])
        let r = try run(["--json", "summary"], in: d.path)
        #expect(r.status == 0 && r.stderr.contains("cannot be checked"), "\(r.stderr)")
        #expect(r.stdout.contains("\"MinimumVersion\": \"commit:f7762b71437227922a367bb89597843c77494ef9\""))
        let boxed = try Shell.run(["env", "MKOSI_IN_BOX=1", "MKOSI_DEFAULT_TOOLS_TREE_PATH=/srv/tools", mkosi, "--json", "summary"], cwd: d.path)
        #expect(boxed.status == 0 && boxed.stdout.contains("\"ToolsTree\": \"/srv/tools\""), "\(boxed.stderr)")
        #expect(!boxed.stdout.contains("\"Image\": \"tools\""), "no tools image is made inside the box")
    }

    /// As upstream: `Environment=` does not feed `SourceDateEpoch=` (only the host's
    /// environment does), and a proxy variable there makes `ProxyUrl=`/`ProxyExclude=` empty.
    @Test func environmentDoesNotFeedSourceDateEpochOrProxyDefaults() throws {
        let d = try Dir(["mkosi.conf": "[Build]\nEnvironment=SOURCE_DATE_EPOCH=12345\n  http_proxy=http://proxy:3128\n  no_proxy=a,b\n"])
        let r = try Shell.run(["env", "SOURCE_DATE_EPOCH=99", "https_proxy=http://host:1", mkosi, "--json", "summary"], cwd: d.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"SourceDateEpoch\": 99,"), "\(r.stdout)")
        #expect(r.stdout.contains("\"ProxyUrl\": \"\","))
        #expect(r.stdout.contains("\"ProxyExclude\": [\n                \"\"\n            ],"))
        let plain = try Dir(["mkosi.conf": "[Build]\nEnvironment=FOO=bar\n"])
        let h = try Shell.run(["env", "https_proxy=http://host:1", "no_proxy=x,y", mkosi, "--json", "summary"], cwd: plain.path)
        #expect(h.stdout.contains("\"ProxyUrl\": \"http://host:1\","), "\(h.stdout)")
        #expect(h.stdout.contains("\"ProxyExclude\": [\n                \"x\",\n                \"y\"\n            ],"))
    }

    @Test func versionAndHelp() throws {
        let v = try run(["--version"])
        #expect(v.status == 0 && v.stdout.hasPrefix("mkosi "))
        let h = try run(["--help"])
        #expect(h.status == 0 && h.stdout.contains("Verbs:") && h.stdout.contains("--package"))
        #expect(try run(["help"]).stdout == h.stdout)
    }

    @Test func usageErrorsExitTwoWithAUsageLine() throws {
        for args in [["--no-such-option"], ["summary", "extra"], ["nosuchverb"]] {
            let r = try run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.hasPrefix("usage: mkosi"), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    /// A value this mkosi cannot build yet stops the build before any work, naming the setting
    /// and where it was set, with nothing left behind; runtime-only settings are warnings.
    @Test func unhonouredSettingsAreRefusedOrWarnedBeforeAnyWork() throws {
        let d = try Dir(["mkosi.conf": "[Distribution]\nDistribution=debian\nRelease=trixie\n[Output]\nFormat=directory\n"
                            + "[Build]\nForeignUIDRange=yes\nWorkspaceDirectory=ws\nToolsTree=default\n"
                            + "[Output]\nElToritoSystem=SYS\n"])
        try FileManager.default.createDirectory(atPath: d.path + "/ws", withIntermediateDirectories: true)
        let r = try run(["build"], in: d.path)
        #expect(r.status == 1)
        #expect(r.stderr.contains("mkosi.conf:7: ForeignUIDRange=yes asks for the foreign UID range (mapped through systemd-nsresourced, which cannot load its BPF program on the machines this mkosi is tested on), which is not implemented yet in this mkosi"), "\(r.stderr)")
        // Every setting is honoured where it applies (nothing is only warned about any more):
        // one that means nothing for the image is the warning.
        #expect(r.stderr.contains("mkosi.conf:11: ElToritoSystem=SYS has no effect on Format=directory images"), "\(r.stderr)")
        #expect(!r.stderr.contains("Building") && !r.stderr.contains("Syncing"), "work started: \(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: d.path + "/ws").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: d.path).sorted() == ["mkosi.conf", "ws"])

        // summary marks both and succeeds.
        let s = try run(["summary"], in: d.path)
        #expect(s.status == 0 && s.stdout.contains("NOT HONOURED BY THIS MKOSI"))
        #expect(s.stdout.contains("refused: mkosi.conf:7: ForeignUIDRange=yes"), "\(s.stdout)")

        // The option names itself as the origin; on an image that cannot boot it has no effect.
        // (Format=none without scripts builds nothing.)
        let o = try run(["--tpm=yes", "--foreign-uid-range=no", "--format=none", "--tools-tree=", "build"], in: d.path)
        #expect(o.status == 0, "\(o.stderr)")
        #expect(o.stderr.contains("command line (--tpm): TPM=enabled has no effect on Format=none images"), "\(o.stderr)")
    }

    /// genkey: a key (0600) and certificate with upstream's defaults; existing ones are kept
    /// unless -f is given.
    @Test func genkeyMakesAKeyAndCertificate() throws {
        let d = try Dir(["mkosi.conf": ""])
        let r = try run(["--genkey-common-name=test CN", "genkey"], in: d.path)
        #expect(r.status == 0, "\(r.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: d.path + "/mkosi.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let subject = try Shell.run(["openssl", "x509", "-in", d.path + "/mkosi.crt", "-noout", "-subject"])
        #expect(subject.stdout.contains("CN = test CN") || subject.stdout.contains("CN=test CN"), "\(subject.stdout)")
        let again = try run(["genkey"], in: d.path)
        #expect(again.status == 1 && again.stderr.contains("mkosi.key already exists"), "\(again.stderr)")
        let key = try String(contentsOfFile: d.path + "/mkosi.key", encoding: .utf8)
        #expect(try run(["-f", "genkey"], in: d.path).status == 0)
        #expect(try String(contentsOfFile: d.path + "/mkosi.key", encoding: .utf8) != key)
        #expect(try FileManager.default.contentsOfDirectory(atPath: d.path).sorted() == ["mkosi.conf", "mkosi.crt", "mkosi.key"])
    }

    /// The bash completion passes shellcheck (upstream's test_shellcheck runs it on ours).
    @Test func bashCompletionIsCleanShell() throws {
        let c = try run(["completion", "bash"])
        #expect(c.status == 0 && c.stdout.hasPrefix("# shellcheck shell=bash\n"))
        #expect(!c.stdout.contains("=($("), "word-splitting array assignments (SC2207)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-completion-\(UUID().uuidString).bash").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try c.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try Shell.run(["bash", "-n", file]).status == 0)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/shellcheck") {
            let check = try Shell.run(["/usr/bin/shellcheck", file])
            #expect(check.status == 0, "\(check.stdout)")
        }
    }

    /// Verbs that need a running machine or a built image say what is missing.
    @Test func runtimeVerbsSayWhatIsMissing() throws {
        let d = try Dir(["mkosi.conf": "[Content]\nPackages=a\n[Runtime]\nMachine=nosuchvm\n"])
        let ssh = try run(["ssh"], in: d.path)
        #expect(ssh.status == 1 && ssh.stderr.contains("cannot SSH into virtual machine nosuchvm"), "\(ssh.stderr)")
        for verb in ["journalctl", "serve", "burn"] {
            let r = try run(verb == "burn" ? [verb, "/dev/null"] : [verb], in: d.path)
            #expect(r.status != 0 && r.stderr.contains("has not been built yet") || r.stderr.contains("cannot be"), "\(verb): \(r.stderr)")
        }
        let sysupdate = try run(["sysupdate"], in: d.path)
        #expect(sysupdate.status == 1 && sysupdate.stderr.contains("No sysupdate definitions directory specified"), "\(sysupdate.stderr)")
        let snapshot = try run(["-d", "fedora", "--mirror=http://127.0.0.1:9", "latest-snapshot"], in: d.path)
        #expect(snapshot.status != 0 && snapshot.stderr.contains("Could not get the latest snapshot from http://127.0.0.1:9/compose/"),
                "\(snapshot.stderr)")
    }

    @Test func configurationErrorsExitOneAndNameTheFile() throws {
        let d = try Dir(["mkosi.conf": "[Runtime]\nRAM=lots\n"])
        let r = try run(["summary"], in: d.path)
        #expect(r.status == 1)
        #expect(r.stderr.contains("mkosi.conf:2: Setting RAM: 'lots' is not a valid size"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func summaryTextAndOrigins() throws {
        let d = try Dir(["mkosi.conf": "[Distribution]\nDistribution=debian\n[Content]\nPackages=a\n"])
        let s = try run(["summary"], in: d.path)
        #expect(s.status == 0 && s.stdout.hasPrefix("IMAGE: main") && s.stdout.contains("Distribution: debian"))
        let o = try run(["summary", "--show-origin", "-p", "b"], in: d.path)
        #expect(o.status == 0)
        #expect(o.stdout.contains("Packages=a b"), "\(o.stdout)")
        #expect(o.stdout.contains("mkosi.conf:4, command line (-p)"), "\(o.stdout)")
        #expect(o.stdout.contains("Distribution=debian") && o.stdout.contains("mkosi.conf:2"))
        let j = try run(["--json", "--show-origin", "summary", "-p", "b"], in: d.path)
        let json = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        let image = (json?["Images"] as? [[String: Any]])?.first
        let origins = image?["Origins"] as? [String: [String]]
        #expect(origins?["Packages"] == ["mkosi.conf:4", "command line (-p)"])
        #expect(origins?["WithDocs"] == ["default"])
    }

    @Test func catConfigShowsEveryFile() throws {
        let d = try Dir(["mkosi.conf": "[Content]\nPackages=a\n", "mkosi.conf.d/10.conf": "[Content]\nPackages=b\n"])
        let r = try run(["cat-config"], in: d.path)
        #expect(r.status == 0)
        #expect(r.stdout.contains("### IMAGE: main\n# mkosi.conf\n[Content]\nPackages=a\n"))
        #expect(r.stdout.contains("# mkosi.conf.d/10.conf\n"))
    }

    @Test func bumpWritesTheNextVersion() throws {
        let d = try Dir(["mkosi.conf": "[Content]\nPackages=a\n", "mkosi.version": "1.9\n"])
        #expect(try run(["bump"], in: d.path).status == 0)
        #expect(try String(contentsOfFile: d.path + "/mkosi.version", encoding: .utf8) == "1.10\n")
    }

    @Test func completionScriptsAreValid() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try run(["completion", shell])
            #expect(r.status == 0 && r.stdout.contains("mkosi") && r.stdout.contains("package"))
        }
        let bash = try run(["completion", "bash"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-\(UUID().uuidString).bash").path
        try bash.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try Shell.run(["bash", "-n", file]).status == 0)
    }

    @Test func documentationAndDependencies() throws {
        let doc = try run(["documentation"])
        #expect(doc.status == 0 && doc.stdout.contains("--show-origin"))
        let deps = try run(["dependencies"])
        #expect(deps.status == 0)
        let packages = deps.stdout.split(separator: "\n").map(String.init)
        #expect(packages.contains("systemd") && packages == packages.sorted())
    }
}
