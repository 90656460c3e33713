import Foundation
import Testing
import TestSupport

/// `--debug-shell` and `--debug-sandbox` on a build that downloads nothing (`Distribution=custom`,
/// a build script run with the host's tools). Part of the serialized `BuildIntegrationTests` suite.
extension BuildIntegrationTests {
    static let failingBuild = [
        "mkosi.conf": "[Distribution]\nDistribution=custom\n[Output]\nFormat=directory\n[Build]\nEnvironment=MARK=env-of-the-script\n",
        "mkosi.build": "#!/bin/sh\necho BUILD-SCRIPT-RAN\nexit 3\n",
    ]

    /// Runs `mkosi ARGS build` in `dir` with `input` on standard input.
    func build(_ args: [String], in dir: String, input: String) throws -> Shell.Result {
        try Shell.run(["/bin/sh", "-c", "input=$1; shift; printf '%s' \"$input\" | \"$0\" \"$@\"", mkosi, input] + args + ["build"], cwd: dir)
    }

    /// A failing build script opens a shell in its sandbox (its working directory, mounts and
    /// environment); without a terminal the shell reads standard input. When it exits, the build
    /// fails as it would have.
    @Test func debugShellOpensAShellWhereTheScriptFailed() throws {
        let p = try Project(Self.failingBuild, executable: ["mkosi.build"])
        let commands = "echo MARKER-$PWD-$MARK-$SRCDIR; test -x /work/mkosi.build && echo SCRIPT-IS-THERE; exit\n"
        let r = try build(["--debug-shell"], in: p.dir, input: commands)
        // A build shows its scripts' output on standard error; the shell has mkosi's own.
        #expect(r.stderr.contains("BUILD-SCRIPT-RAN"), "\(r.stderr)")
        #expect(r.stdout.contains("MARKER-/work/src-env-of-the-script-/work/src"), "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("SCRIPT-IS-THERE"), "\(r.stdout)")
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderr.contains("mkosi.build failed with exit status 3"), "\(r.stderr)")
        #expect(p.leftovers().isEmpty, "\(p.leftovers())")

        // Without the option nothing reads standard input.
        let plain = try build([], in: p.dir, input: commands)
        #expect(plain.status == 3 && !plain.stdout.contains("MARKER-"), "\(plain.stdout)")

        // A script that succeeds opens no shell.
        try "#!/bin/sh\necho BUILD-SCRIPT-RAN\n".write(toFile: p.dir + "/mkosi.build", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: p.dir + "/mkosi.build")
        let ok = try build(["--debug-shell", "-f"], in: p.dir, input: commands)
        #expect(ok.status == 0 && ok.stderr.contains("BUILD-SCRIPT-RAN") && !ok.stdout.contains("MARKER-"), "\(ok.stdout)\n\(ok.stderr)")
    }

    /// The sandbox helper runs under strace until it executes the command: its namespaces and
    /// mounts are traced, the command is not, and its exit status still decides.
    @Test func debugSandboxTracesTheSandboxSetUp() throws {
        let p = try Project(Self.failingBuild, executable: ["mkosi.build"])
        let r = try build(["--debug-sandbox"], in: p.dir, input: "")
        #expect(r.status == 3, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("BUILD-SCRIPT-RAN"))
        #expect(r.stderr.contains("unshare(CLONE_NEWNS") && r.stderr.contains("pivot_root(\".\", \".\")"), "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("execve(\"/work/mkosi.build\""), "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("mkosi.build failed with exit status 3"))
        // The script itself is not traced: strace let go of it at its execve.
        #expect(!r.stderr.contains("write(1, \"BUILD-SCRIPT-RAN"), "\(r.stderr.suffix(2000))")
    }
}
