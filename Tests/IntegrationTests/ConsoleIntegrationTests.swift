import Foundation
import Testing
import TestSupport

/// `Console=` under qemu, as upstream: `read-only` shows the guest's console (through
/// systemd-pty-forward, from the Debian testing tools tree) but passes nothing typed on to the
/// guest; `headless` shows nothing of the guest at all while it boots. Part of the serialized
/// `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// A unit the guest starts (`systemd.wants=` on the kernel command line, the unit itself from
    /// a `systemd.extra-unit.` credential in `mkosi.credentials/`): it leaves a file in the
    /// runtime tree, so a guest whose console shows nothing still says it booted.
    static let bootedUnit = """
        [Unit]
        Description=Tell the host that the guest booted
        RequiresMountsFor=/root/src

        [Service]
        Type=oneshot
        ExecStart=/usr/bin/touch /root/src/booted

        """

    @Test func consoleReadOnlyShowsTheBootAndHeadlessShowsNothing() throws {
        let p = try exampleProject(["mkosi.credentials/systemd.extra-unit.mkosi-booted.service": Self.bootedUnit,
                                    "share/.keep": ""])
        let build = try Shell.run([mkosi, "--tools-tree=\(Self.toolsTree)", "build"], cwd: p.dir)
        #expect(build.status == 0, "\(build.stderr.suffix(3000))")
        let common = ["--kernel-command-line-extra=systemd.wants=mkosi-booted.service",
                      "--runtime-tree=\(p.dir)/share:/root/src"]

        // Headless: the guest boots (it leaves its file in the shared tree), and not one of its
        // lines reaches mkosi's output.
        let headless = try Background([mkosi, "--tools-tree=\(Self.toolsTree)", "--console=headless"] + common + ["vm"],
                                      cwd: p.dir)
        let booted = Self.waitForFile(p.dir + "/share/booted", while: headless, timeout: 400)
        headless.stop()
        let quiet = headless.output
        #expect(booted, "the headless guest did not boot: \(quiet.suffix(3000))")
        for guestText in ["login:", "Welcome to", "systemd", "Linux version"] {
            #expect(!quiet.contains(guestText), "a headless guest printed \"\(guestText)\": \(quiet.suffix(3000))")
        }
        try? FileManager.default.removeItem(atPath: p.dir + "/share/booted")

        // Read-only: the console shows the boot up to the login prompt; a user name typed then
        // is not passed on (no password prompt follows).
        let input = Pipe()
        let readOnly = try Background([mkosi, "--tools-tree=\(Self.testingToolsTree)", "--console=read-only",
                                       "--kernel-command-line-extra=systemd.hostname=mkosireadonly"] + common + ["vm"],
                                      cwd: p.dir, input: input)
        let prompt = readOnly.wait(for: "mkosireadonly login:", timeout: 400)
        if prompt {
            input.fileHandleForWriting.write(Data("root\n".utf8))
            sleep(15)
        }
        readOnly.stop()
        let shown = readOnly.output
        #expect(prompt, "the read-only console showed no login prompt: \(shown.suffix(3000))")
        #expect(FileManager.default.fileExists(atPath: p.dir + "/share/booted"), "the read-only guest did not boot")
        #expect(!shown.contains("Password:"), "what was typed reached the read-only guest: \(shown.suffix(2000))")
    }

    /// Whether `path` appears before `process` exits or `timeout` passes.
    static func waitForFile(_ path: String, while process: Background, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline && process.process.isRunning {
            if FileManager.default.fileExists(atPath: path) { return true }
            usleep(500_000)
        }
        return FileManager.default.fileExists(atPath: path)
    }
}
