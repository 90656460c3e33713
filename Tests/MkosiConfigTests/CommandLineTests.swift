@testable import MkosiConfig
import MkosiCore
import Testing

@Suite struct CommandLineTests {
    func parsed(_ argv: [String]) throws -> ParsedCommandLine { try CommandLineParser.parse(argv, cwd: "/") }

    @Test func verbDefaultsToBuild() throws {
        #expect(try parsed([]).args.verb == .build)
        #expect(try parsed(["-f"]).args.verb == .build)
    }

    @Test func optionsBeforeAndAfterTheVerb() throws {
        let a = try parsed(["-f", "summary", "--json", "-ff"]).args
        #expect(a.verb == .summary && a.json && a.force == 3)
    }

    @Test func argumentsAfterTheVerb() throws {
        #expect(try parsed(["shell", "--", "ls", "-l"]).args.cmdline == ["ls", "-l"])
        #expect(try parsed(["build", "--", "-f"]).args.cmdline == ["-f"])
        #expect(try parsed(["--", "summary"]).args.verb == .summary)
        #expect(try parsed(["summary", "extra"]).args.cmdline == ["extra"])
    }

    @Test(arguments: [
        (["shell", "ls", "-l"], "unrecognized arguments: -l"),
        (["shell", "--debug", "--", "ls"], "unrecognized arguments: -- ls"),
        (["foo"], "argument verb: invalid Verb value: 'foo'"),
        (["--with-docs"], "argument --with-docs: expected one argument"),
        (["--verity="], "argument --verity: invalid choice: '' (choose from 'disabled', 'hash', 'signed', 'defer', 'auto')"),
        (["--debug=x"], "argument --debug: ignored explicit argument 'x'"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["-fq"], "argument -f: ignored explicit argument 'q'"),
    ])
    func usageErrors(_ argv: [String], _ message: String) {
        do {
            _ = try parsed(argv)
            Issue.record("no error for \(argv)")
        } catch let e as MkosiError {
            #expect(e.code == .usage)
            #expect(e.message == message)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func shortOptionsAndClusters() throws {
        let p = try parsed(["-pvim,less", "-ifT", "-d", "fedora", "-a"])
        #expect(p.settings["packages"]?.strings == ["less", "vim"])
        #expect(p.settings["incremental"] == .string("yes"))
        #expect(p.settings["with_tests"] == .bool(false))
        #expect(p.settings["autologin"] == .bool(true))
        #expect(p.settings["distribution"] == .string("fedora"))
        #expect(p.args.force == 1)
    }

    @Test func emptyValueRecordsAReset() throws {
        let p = try parsed(["--package=", "--distribution="])
        #expect(p.settings["packages"] == .null && p.settings.wasNone.contains("packages"))
        #expect(p.settings.wasNone.contains("distribution"))
    }

    @Test func checksumTakesAnOptionalValue() throws {
        #expect(try parsed(["--checksum"]).settings["checksum"] == .bool(true))
        #expect(try parsed(["--checksum", "no"]).settings["checksum"] == .bool(false))
        #expect(errorMessage { _ = try parsed(["--checksum", "summary"]) }?.contains("Invalid boolean literal") == true)
    }

    @Test func compatOptionsAndInvalidValues() throws {
        #expect(try parsed(["--qemu-mem=1G"]).settings["ram"] == .int(1 << 30))
        #expect(try parsed(["--output-dir", "/tmp"]).settings["output_dir"] == .string("/tmp"))
        let error = errorMessage { _ = try parsed(["--ram", "lots"]) }
        #expect(error?.hasPrefix("--ram: 'lots' is not a valid size") == true)
    }

    @Test func directoryOptionChangesTheBaseOfLaterPaths() throws {
        let p = try Project(["sub/file": ""])
        let parsed = try CommandLineParser.parse(["-C", "sub", "--extra-tree", "file"], cwd: p.dir)
        #expect(parsed.settings["extra_trees"]?.trees.first?.source.hasSuffix("/sub/file") == true)
        #expect(try CommandLineParser.parse(["-C", ""], cwd: p.dir).args.directory == nil)
        #expect(errorMessage { _ = try CommandLineParser.parse(["-C", "nope"], cwd: p.dir) } == "nope is not a directory!")
    }
}
