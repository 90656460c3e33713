import Foundation
@testable import MkosiCommands
import MkosiConfig
import MkosiCore
import TestSupport
import Testing

/// `mkosi documentation` in each `--doc-format`, and the rendered manuals checked by man.
@Suite struct DocumentationTests {
    let mkosi = Binary.locate()

    func run(_ args: [String], environment: [String: String] = [:]) throws -> Shell.Result {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        return try Shell.run([mkosi] + args, cwd: "/", environment: env)
    }

    /// Every manual in the resources, rendered, is read by `man` without a single warning, and
    /// shows its sections.
    @Test func everyManualRendersWithoutManWarnings() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/man") else {
            Issue.record("This test needs man-db (`man`) installed")
            return
        }
        let resources = BuiltinResources()
        let names = try DocumentationCommand.manuals(resources)
        #expect(names.contains("mkosi"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-man-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in names {
            let page = DocumentationCommand.Page(name: name, section: 1, markdown: try Manual.markdown(named: name, resources: resources))
            let file = "\(dir)/\(name).1"
            try page.roff.write(toFile: file, atomically: true, encoding: .utf8)
            for locale in ["C.UTF-8", "C"] {
                let env = ["LC_ALL": locale, "MANWIDTH": "80", "PATH": "/usr/bin:/bin"]
                let checked = try Shell.run(["/bin/sh", "-c", "man --warnings -l \"$1\" 2>&1 >/dev/null", "sh", file], environment: env)
                #expect(checked.stdout == "", "\(name) in \(locale): \(checked.stdout)")
                let shown = try Shell.run(["/usr/bin/man", "-P", "cat", "-l", file], environment: env)
                #expect(shown.status == 0 && shown.stdout.contains("NAME") && shown.stdout.contains("DESCRIPTION"), "\(name)")
            }
        }
    }

    @Test func markdownIsTheManualsFinalText() throws {
        let r = try run(["--doc-format=markdown", "documentation"])
        #expect(r.status == 0)
        #expect(r.stdout == (try Manual.markdown(named: "mkosi", resources: BuiltinResources())))
        #expect(!r.stdout.contains(SupportReport.manualMarker))
    }

    @Test func roffIsTheManPageSource() throws {
        let r = try run(["--doc-format=roff", "documentation", "mkosi"], environment: ["SOURCE_DATE_EPOCH": "86400"])
        #expect(r.status == 0)
        let macros = r.stdout.split(separator: "\n").filter { $0.hasPrefix(".") && !$0.hasPrefix(".\\\"") }
        #expect(macros.first == #".TH "MKOSI" "1" "1970\-01\-02" "mkosi \#(MkosiVersion.current.replacingOccurrences(of: "-", with: "\\-"))" "mkosi Manual""#)
        #expect(r.stdout.contains(".SH\nNAME\n.PP\nmkosi \\- "))
    }

    @Test func manFormatShowsTheRenderedPage() throws {
        let r = try run(["--no-pager", "--doc-format=man", "documentation"], environment: ["MANWIDTH": "80"])
        #expect(r.status == 0 && r.stdout.contains("SYNOPSIS") && r.stdout.contains("--show-origin"), "\(r.stderr)")
        // Without man, auto falls back to the Markdown; man asked for by name is an error naming it.
        let auto = try run(["documentation"], environment: ["PATH": "/nonexistent"])
        #expect(auto.status == 0 && auto.stdout.hasPrefix("# mkosi"))
        let man = try run(["--doc-format=man", "documentation"], environment: ["PATH": "/nonexistent"])
        #expect(man.status == 1 && man.stderr.contains("--doc-format needs man") && man.stderr.contains("man-db"))
    }

    @Test func pandocWithoutPandocIsAClearError() throws {
        let r = try run(["--doc-format=pandoc", "documentation"], environment: ["PATH": "/nonexistent"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("--doc-format needs pandoc, which is not installed"))
    }

    /// Where pandoc is installed (it is not needed otherwise), it renders the page for man.
    @Test func pandocRendersWhereInstalled() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/pandoc") else { return }
        let r = try run(["--no-pager", "--doc-format=pandoc", "documentation"], environment: ["MANWIDTH": "80"])
        #expect(r.status == 0 && r.stdout.contains("\nSYNOPSIS\n") && r.stdout.contains("\nNAME\n"), "\(r.stderr)")
    }

    @Test func unknownManualIsAUsageErrorListingTheManuals() throws {
        let r = try run(["documentation", "nope"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("No manual named 'nope'") && r.stderr.contains("Available manuals: ") && r.stderr.contains("mkosi"))
        let roff = try run(["--doc-format=roff", "documentation", "nope"])
        #expect(roff.status == 2 && roff.stdout.isEmpty)
    }
}

/// Paging through a pseudo-terminal (`script` gives the command a terminal): `less` is run with
/// `$MKOSI_LESS` as `$LESS`, or upstream's `FXMKR`; `--no-pager` prints directly.
@Suite struct PagingTests {
    let mkosi = Binary.locate()

    /// Runs `mkosi ARGS` on a terminal with a fake `less` first on `$PATH` that records `$LESS`;
    /// returns what it recorded (nil when it did not run).
    func pagedLess(_ args: [String], mkosiLess: String?) throws -> String? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-pager-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let record = "\(dir)/less-ran"
        try "#!/bin/sh\nprintf '%s' \"$LESS\" > \(record)\ncat >/dev/null\n".write(toFile: "\(dir)/less", atomically: true, encoding: .utf8)
        chmod("\(dir)/less", 0o755)
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = "\(dir):/usr/bin:/bin"
        env["TERM"] = "xterm"
        env["PAGER"] = nil
        env["MANPAGER"] = nil
        env["MKOSI_LESS"] = mkosiLess
        let command = ([mkosi] + args).map { "'\($0)'" }.joined(separator: " ")
        let r = try Shell.run(["/usr/bin/script", "-qec", command, "/dev/null"], cwd: dir, environment: env)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        return try? String(contentsOfFile: record, encoding: .utf8)
    }

    @Test func helpIsPagedWithMkosiLess() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            Issue.record("This test needs script (util-linux) installed")
            return
        }
        #expect(try pagedLess(["--help"], mkosiLess: "-detectable") == "-detectable")
        #expect(try pagedLess(["-C", "", "summary"], mkosiLess: nil) == Pager.defaultLess)
        #expect(try pagedLess(["--no-pager", "help"], mkosiLess: "-x") == nil)
        #expect(try pagedLess(["--doc-format=markdown", "documentation"], mkosiLess: "M") == "M")
        // man pages itself; --no-pager reaches it as `-P cat`.
        #expect(try pagedLess(["--no-pager", "--doc-format=man", "documentation"], mkosiLess: "M") == nil)
    }
}
