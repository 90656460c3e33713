import MkosiCore
import MkosiSandbox
import Testing

/// `HostCommand` finds the command in the sandbox helper's command line (for `--debug-shell` and
/// `--debug-sandbox`) with `SandboxCommandLine.arity`: every option `Sandbox.argv` writes is in it.
@Suite struct SandboxCommandLineTests {
    @Test func everyOptionTheSandboxWritesIsRead() {
        var s = Sandbox.withTools(tree: "/tools", userNamespace: true)
        s.add(.directory("/work"))
        s.add(.overlay(lower: ["/a", "/b"], upper: "/u", work: "/w", target: "/buildroot"))
        s.add(.overlay(lower: ["/a"], upper: "", work: "", target: "/ro"))
        s.bind("/src", "/work/src")
        s.bind("/opt", readOnly: false, optional: true)
        s.suppressChown = true
        s.suppressSync = true
        s.network = false
        s.workingDirectory = "/work/src"
        s.environment = [("NAME", "--"), ("--", "value")]
        let argv = SandboxRunner(helper: "/usr/bin/mkosi").commandLine(["/work/script", "--", "x"], in: s)
        let parts = SandboxCommandLine.split(argv)
        #expect(parts?.command == ["/work/script", "--", "x"])
        #expect(parts.map { $0.sandbox + $0.command } == argv)
    }
}
