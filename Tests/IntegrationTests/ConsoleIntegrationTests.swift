import Foundation
import Testing
import TestSupport

extension BuildIntegrationTests {
    /// `Console=` under qemu: read-only runs qemu under systemd-pty-forward (from the Debian
    /// testing tools tree; trixie's systemd has none) and shows the guest's console up to its
    /// login prompt, but a user name typed then does not reach the guest (no password prompt
    /// follows); headless gives the guest no console at all: it boots, runs the kernel command
    /// line's `systemd.run=` and powers off, and nothing of it reaches the output.
    @Test func consoleReadOnlyAndHeadless() throws {
        let p = try exampleProject()
        let build = try Shell.run([mkosi, "--tools-tree=\(Self.toolsTree)", "build"], cwd: p.dir)
        #expect(build.status == 0, "\(build.stderr.suffix(3000))")

        let input = Pipe()
        let ro = try Background([mkosi, "--tools-tree=\(Self.testingToolsTree)", "--console=read-only",
                                 "--kernel-command-line-extra=systemd.hostname=consolero", "vm"], cwd: p.dir, input: input)
        let shown = ro.wait(for: "consolero login:", timeout: 300)
        if shown {
            input.fileHandleForWriting.write(Data("root\n".utf8))
            sleep(15)
        }
        let readOnly = ro.output
        ro.stop()
        #expect(shown, "no login prompt through systemd-pty-forward: \(readOnly.suffix(3000))")
        #expect(readOnly.contains("Press ^] three times within 1s to disconnect TTY."), "\(readOnly.prefix(2000))")
        #expect(!readOnly.contains("Password:"), "what was typed reached the read-only guest: \(readOnly.suffix(2000))")

        let vm = try Background([mkosi, "--tools-tree=\(Self.toolsTree)", "--console=headless",
                                 "--kernel-command-line-extra=systemd.run=/bin/true systemd.run_success_action=poweroff", "vm"], cwd: p.dir)
        let exited = vm.waitForExit(timeout: 300)
        let headless = vm.output
        vm.stop()
        #expect(exited, "the headless VM did not power off: \(headless.suffix(2000))")
        for guest in ["BdsDxe", "[  OK  ]", "login:", "Press ^]"] {
            #expect(!headless.contains(guest), "\(guest) reached the output of a headless VM: \(headless.suffix(2000))")
        }
        #expect(exited && vm.process.terminationStatus == 0, "\(headless.suffix(2000))")
    }
}
