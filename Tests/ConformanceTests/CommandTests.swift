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

    @Test func verbsNotImplementedYetFailClearly() throws {
        let d = try Dir(["mkosi.conf": "[Content]\nPackages=a\n"])
        let r = try run(["ssh"], in: d.path)
        #expect(r.status == 1 && r.stderr.contains("not implemented yet"), "\(r.stderr)")
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
