import Foundation
import TestSupport
import Testing

/// "Did you mean …?" and the debugging options' refusals, through the built binary.
extension CommandTests {
    @Test func misspelledNamesGetTheNearestRealOne() throws {
        let d = try Dir(["mkosi.conf": "[Distribution]\nDistribution=custom\n[Contnet]\nPackages=vim\n[Content]\nPakages=less\n",
                         "mkosi.profiles/name.conf": "[Content]\nPackages=more\n"])
        let verb = try run(["biuld"], in: d.path)
        #expect(verb.status == 2 && verb.stderr.hasPrefix("usage: mkosi"), "\(verb.stderr)")
        #expect(verb.stderr.contains("argument verb: invalid Verb value: 'biuld' (did you mean build?)"), "\(verb.stderr)")

        let option = try run(["--pacakge=vim", "summary"], in: d.path)
        #expect(option.status == 2 && option.stderr.hasPrefix("usage: mkosi"), "\(option.stderr)")
        #expect(option.stderr.contains("unrecognized arguments: --pacakge=vim (did you mean --package?)"), "\(option.stderr)")

        // Settings, sections and profiles stay warnings: the summary is printed.
        let s = try run(["--profile=nme", "summary"], in: d.path)
        #expect(s.status == 0 && !s.stdout.isEmpty, "\(s.stderr)")
        #expect(s.stderr.contains("mkosi.conf:3: Unknown section [Contnet], its settings are ignored (did you mean [Content]?)"), "\(s.stderr)")
        #expect(s.stderr.contains("mkosi.conf:6: Unknown setting Pakages (did you mean Packages?)"), "\(s.stderr)")
        #expect(s.stderr.contains("Profile nme (set by command line (--profile)) has no mkosi.profiles/nme or mkosi.profiles/nme.conf"
                                  + " (did you mean name?)"), "\(s.stderr)")
    }

    /// `--debug-sandbox` runs the sandbox under strace: without strace it is refused before any
    /// work, naming the option.
    @Test func debugSandboxWithoutStraceIsRefusedBeforeAnyWork() throws {
        let d = try Dir(["mkosi.conf": "[Distribution]\nDistribution=custom\n[Output]\nFormat=directory\n",
                         "mkosi.build": "#!/bin/sh\necho SCRIPT-RAN\n"])
        let r = try Shell.run([mkosi, "--debug-sandbox", "build"], cwd: d.path, environment: ["PATH": "/nonexistent"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("--debug-sandbox needs strace, which is not installed"), "\(r.stderr)")
        #expect(!r.stderr.contains("Building") && !r.stdout.contains("SCRIPT-RAN"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: d.path).sorted() == ["mkosi.build", "mkosi.conf"])
    }
}
