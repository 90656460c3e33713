import Foundation
import TestSupport
import Testing

/// `mkosi-initrd`, `mkosi-sandbox` and `mkosi-addon` through the built binary, called by those
/// names from symlinks in a scratch directory of the test's own.
@Suite struct CompanionCommandTests {
    final class Links {
        let path: String
        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-companions-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for name in ["mkosi-initrd", "mkosi-sandbox", "mkosi-addon"] {
                try FileManager.default.createSymbolicLink(atPath: path + "/" + name, withDestinationPath: Binary.locate())
            }
        }
        func run(_ name: String, _ args: [String]) throws -> Shell.Result { try Shell.run([path + "/" + name] + args, cwd: path) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Whether this machine lets us make the namespaces a sandbox needs (root, or unprivileged
    /// user namespaces).
    static func sandboxWorks() -> Bool {
        (try? Links().run("mkosi-sandbox", ["--bind", "/", "/", "--", "true"]).status) == 0
    }

    @Test func helpAndVersionOfEachCommand() throws {
        let links = try Links()
        for (name, option) in [("mkosi-initrd", "--kernel-version"), ("mkosi-sandbox", "--ro-bind"), ("mkosi-addon", "--output-dir")] {
            let help = try links.run(name, ["--help"])
            #expect(help.status == 0 && help.stdout.contains(name) && help.stdout.contains(option), "\(name): \(help.stderr)")
            let version = try links.run(name, ["--version"])
            let mkosi = try Shell.run([Binary.locate(), "--version"])
            #expect(version.status == 0 && version.stdout == mkosi.stdout, "\(name): \(version.stdout)")
        }
    }

    @Test func usageErrorsNameTheOption() throws {
        let links = try Links()
        let initrd = try links.run("mkosi-initrd", ["--format", "disk"])
        #expect(initrd.status == 2 && initrd.stderr.contains("invalid choice: 'disk'"), "\(initrd.stderr)")
        let sandbox = try links.run("mkosi-sandbox", ["--map-foreign", "true"])
        #expect(sandbox.status == 2 && sandbox.stderr.contains("--map-foreign is not supported"), "\(sandbox.stderr)")
        let addon = try links.run("mkosi-addon", ["--generic"])
        #expect(addon.status == 2 && addon.stderr.contains("--generic"), "\(addon.stderr)")
    }

    @Test func initrdRefusesAKernelWithoutModulesBeforeBuilding() throws {
        let r = try Links().run("mkosi-initrd", ["--kernel-version", "0.0-none", "-O", "out"])
        #expect(r.status == 1 && r.stderr.contains("Invalid kernel directory: /usr/lib/modules/0.0-none"), "\(r.stderr)")
    }

    @Test func showDocumentationPrintsTheManual() throws {
        let doc = try Links().run("mkosi-initrd", ["-D"])
        // Rendered as a man page where man is installed (upstream's `auto`), else the Markdown.
        #expect(doc.status == 0 && doc.stdout.contains("NAME") && doc.stdout.contains("build an initrd"), "\(doc.stderr)")
    }

    @Test(.enabled(if: sandboxWorks(), "needs root or unprivileged user namespaces"))
    func sandboxRunsCommandsInTheRootItAssembles() throws {
        let links = try Links()
        #expect(try links.run("mkosi-sandbox", ["--ro-bind", "/", "/", "--", "true"]).status == 0)
        #expect(try links.run("mkosi-sandbox", ["--ro-bind", "/", "/", "--", "false"]).status == 1)
        let r = try links.run("mkosi-sandbox", [
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--dev", "/dev", "--tmpfs", "/tmp", "--write", "hello", "/tmp/greeting",
            "--setenv", "WHO", "sandbox", "--chdir", "/tmp", "--become-root", "--unshare-net",
            "sh", "-c", "cat greeting; echo \" $WHO $(id -u)\" $(ls /); test ! -e /etc",
        ])
        #expect(r.status == 0 && r.stdout == "hello sandbox 0 bin dev lib lib64 tmp usr\n", "\(r.stdout) \(r.stderr)")
        let missing = try links.run("mkosi-sandbox", ["--ro-bind", "/", "/", "--", "no-such-command-here"])
        #expect(missing.status == 127)
    }

    /// The operations our own sandbox did not have before: relative binds, overlays with a tmpfs
    /// upper directory, `--dir` on a temporary directory, `--unsetenv`, `--unshare-ipc`, `--pack-fds`.
    @Test(.enabled(if: sandboxWorks(), "needs root or unprivileged user namespaces"))
    func sandboxOverlaysRelativeBindsAndDescriptors() throws {
        let links = try Links()
        try "base\n".write(toFile: links.path + "/lower.txt", atomically: true, encoding: .utf8)
        // Only fd 9 is inherited (the others above 2 are closed first); it must arrive as 3.
        let onlyNine = "for f in /proc/$$/fd/*; do n=${f##*/}; if [ \"$n\" -gt 2 ]; then eval \"exec $n<&-\"; fi; done; "
            + "exec 9</dev/null; exec \"$0\" \"$@\""
        let r = try Shell.run(["env", "DROPME=1", "bash", "-c", onlyNine, links.path + "/mkosi-sandbox",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
            "--overlay-lowerdir", links.path, "--overlay-upperdir", "tmpfs", "--overlay", "/data",
            "--bind", "+/data/lower.txt", "/again.txt", "--dir", "/var/tmp", "--unsetenv", "DROPME",
            "--unshare-ipc", "--pack-fds",
            "--", "sh", "-c",
            "cat /again.txt; echo changed > /data/lower.txt; cat /data/lower.txt; stat -c %a /var/tmp; "
                + "echo ${DROPME-unset} ${LISTEN_FDS-none} $(readlink /proc/self/fd/3)",
        ], cwd: links.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "base\nchanged\n1777\nunset 1 /dev/null\n", "\(r.stdout)")
        // The overlay's changes stay in the sandbox.
        #expect(try String(contentsOfFile: links.path + "/lower.txt", encoding: .utf8) == "base\n")
    }
}
