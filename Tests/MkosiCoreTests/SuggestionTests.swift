import MkosiCore
import Testing

@Suite struct SuggestionTests {
    @Test(arguments: [
        ("", "", 0), ("abc", "", 3), ("", "ab", 2), ("build", "build", 0),
        ("biuld", "build", 1),          // one transposition
        ("Contnet", "Content", 1),
        ("nme", "name", 1),             // one insertion
        ("Pakages", "Packages", 1),
        ("packages", "Packages", 0),    // case does not count
        ("with_docs", "with-docs", 0),  // nor _ against -
        ("kitten", "sitting", 3),
        ("ca", "abc", 3),               // optimal string alignment, not full Damerau
    ])
    func distance(_ a: String, _ b: String, _ expected: Int) {
        #expect(Suggestion.distance(a, b) == expected)
        #expect(Suggestion.distance(b, a) == expected)
    }

    @Test func thresholdGrowsWithTheNameUpToThree() {
        #expect(Suggestion.threshold(for: "ab") == 1)
        #expect(Suggestion.threshold(for: "nme") == 1)
        #expect(Suggestion.threshold(for: "Pakages") == 2)
        #expect(Suggestion.threshold(for: "ToolsTreeDistribution") == 3)
    }

    @Test func closestIsTheNearestWithinTheThreshold() {
        let verbs = ["build", "boot", "burn", "bump", "shell", "summary"]
        #expect(Suggestion.closest(to: "biuld", among: verbs) == "build")
        #expect(Suggestion.closest(to: "sumary", among: verbs) == "summary")
        // Too far from everything: no suggestion rather than a random one.
        #expect(Suggestion.closest(to: "xyzzy", among: verbs) == nil)
        // A real name is not misspelled.
        #expect(Suggestion.closest(to: "boot", among: verbs) == nil)
        // Equally near: the first candidate.
        #expect(Suggestion.closest(to: "bu", among: ["bum", "bus"]) == "bum")
        #expect(Suggestion.hint(for: "biuld", among: verbs) == " (did you mean build?)")
        #expect(Suggestion.hint(for: "xyzzy", among: verbs) == "")
    }

    @Test func sandboxCommandLineSplitsAtTheCommand() {
        let argv = ["/usr/bin/mkosi", SandboxCommandLine.flag, "--userns", "--ro-bind", "/usr", "/usr", "--setenv", "A", "--",
                    "--overlay", "a:b", "u", "w", "/t", "--chdir", "/work/src", "--", "/work/script", "--", "arg"]
        let parts = SandboxCommandLine.split(argv)
        #expect(parts?.command == ["/work/script", "--", "arg"])
        #expect(parts?.sandbox.last == "--" && parts?.sandbox.count == argv.count - 3)
        #expect(SandboxCommandLine.split(["/usr/bin/cp", "a", "b"]) == nil)
        #expect(SandboxCommandLine.split(["/usr/bin/mkosi", SandboxCommandLine.flag, "--no-such-option", "--", "true"]) == nil)
    }
}
