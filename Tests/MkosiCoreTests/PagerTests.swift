import MkosiCore
import Testing

/// When and how long output is paged.
@Suite struct PagerTests {
    func plan(enabled: Bool = true, stdin: Bool = true, stdout: Bool = true, _ env: [String: String] = [:],
              installed: Set<String> = ["less", "more"]) -> Pager.Plan {
        Pager.plan(enabled: enabled, stdinIsTerminal: stdin, stdoutIsTerminal: stdout, environment: env,
                   find: { installed.contains($0) ? "/usr/bin/\($0)" : nil })
    }

    @Test func lessWithUpstreamsFlagsOnATerminal() {
        #expect(plan() == .pipe(argv: ["/usr/bin/less"], environment: ["LESS": "FXMKR"]))
        #expect(plan(["MKOSI_LESS": "-R"]) == .pipe(argv: ["/usr/bin/less"], environment: ["LESS": "-R"]))
        #expect(plan(["MKOSI_LESS": ""]) == .pipe(argv: ["/usr/bin/less"], environment: ["LESS": ""]))
    }

    @Test func printedWithoutATerminalOrWithNoPager() {
        #expect(plan(enabled: false) == .print)
        #expect(plan(stdout: false) == .print)
        #expect(plan(stdin: false) == .print)
        #expect(plan(["TERM": "dumb"]) == .print)
    }

    @Test func pagerVariablesWinAndNoPagerInstalledPrints() {
        #expect(plan(["PAGER": "most -s", "MKOSI_LESS": "X"]) == .pipe(argv: ["/bin/sh", "-c", "most -s"], environment: ["LESS": "X"]))
        #expect(plan(["MANPAGER": "m", "PAGER": "p"]) == .pipe(argv: ["/bin/sh", "-c", "m"], environment: ["LESS": "FXMKR"]))
        #expect(plan(["PAGER": ""]) == .pipe(argv: ["/usr/bin/less"], environment: ["LESS": "FXMKR"]))
        #expect(plan(installed: ["more"]) == .pipe(argv: ["/usr/bin/more"], environment: ["LESS": "FXMKR"]))
        #expect(plan(installed: []) == .print)
    }
}
