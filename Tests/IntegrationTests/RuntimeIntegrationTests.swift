import Foundation
import Testing
import TestSupport

/// The runtime, for real: a running VM reached with `mkosi ssh` (over the port `vm` forwards,
/// there being no vsock here) with a TPM and the build sources shared, its journal read back
/// with `mkosi journalctl`, a directory image booted over virtiofs, and the verbs `serve`,
/// `burn`, `init` and `latest-snapshot`. Part of the serialized `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// A process left running in the background, its output in a log file.
    final class Background {
        let process = Process()
        let log: String

        /// Standard input is `input` when given (the test writes to it), else /dev/null.
        init(_ argv: [String], cwd: String, input: Pipe? = nil) throws {
            log = cwd + "/run-\(UUID().uuidString).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.executableURL = URL(fileURLWithPath: argv[0])
            process.arguments = Array(argv.dropFirst())
            process.currentDirectoryURL = URL(fileURLWithPath: cwd)
            process.standardOutput = out
            process.standardError = out
            process.standardInput = input ?? FileHandle.nullDevice
            try process.run()
        }

        var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        /// Waits until `marker` is in the output (true) or the process exits or `timeout` passes.
        func wait(for marker: String, timeout: TimeInterval) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline && process.isRunning {
                if output.contains(marker) { return true }
                usleep(500_000)
            }
            return output.contains(marker)
        }

        /// Waits for the process to exit by itself; false when it is still running at `timeout`.
        func waitForExit(timeout: TimeInterval) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline && process.isRunning { usleep(200_000) }
            return !process.isRunning
        }

        /// SIGTERM (which mkosi handles); `kill` for other programs, which get the test runner's
        /// signal mask with SIGTERM blocked.
        func stop(kill: Bool = false) {
            if process.isRunning {
                if kill { Glibc.kill(process.processIdentifier, SIGKILL) } else { process.terminate() }
            }
            process.waitUntilExit()
        }

        deinit { stop() }
    }

    /// Processes whose program (the first word of the command line) matches `pattern`, except
    /// zombies: a helper killed after its parent exited is reaped by PID 1, which may take a
    /// moment, but no longer runs. Only the program: an `apt-get install qemu-system` elsewhere
    /// on the machine is not a qemu.
    static func pids(_ pattern: String) throws -> Set<String> {
        Set(try Shell.run(["pgrep", "-f", "^[^ ]*(\(pattern))"]).stdout.split(separator: "\n").map(String.init).filter { pid in
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            // pid (comm) STATE …: the state follows the last parenthesis.
            guard let close = stat.lastIndex(of: ")") else { return false }
            return !stat[close...].hasPrefix(") Z")
        })
    }

    /// The example with sshd and `mkosi genkey`'s key, booted with `TPM=yes` and
    /// `RuntimeBuildSources=yes`: `mkosi ssh` sees the TPM and the sources, powers it off, and
    /// `mkosi journalctl` then reads that boot's journal from the disk. Then `serve`, `burn`,
    /// `init`, `latest-snapshot`, and the same example as a directory booted in a VM.
    @Test func sshJournalctlAndTheOtherRuntimeVerbs() throws {
        let p = try exampleProject(["mkosi.conf.d/50-ssh.conf": "[Content]\nPackages=openssh-server\n"])
        let tools = "--tools-tree=\(Self.toolsTree)"
        #expect(try Shell.run([mkosi, "genkey"], cwd: p.dir).status == 0)
        let build = try Shell.run([mkosi, tools, "build"], cwd: p.dir)
        #expect(build.status == 0, "\(build.stderr.suffix(3000))")
        guard build.status == 0 else { return }

        // ssh: refused clearly while nothing runs.
        let early = try Shell.run([mkosi, tools, "--machine=hellovm", "ssh", "--", "true"], cwd: p.dir)
        #expect(early.status != 0 && early.stderr.contains("cannot SSH into virtual machine"), "\(early.stderr)")

        let firstLine = try String(contentsOfFile: p.dir + "/hello.c", encoding: .utf8).split(separator: "\n").first.map(String.init) ?? "?"
        let before = try Self.pids("qemu-system|swtpm|virtiofsd")
        let vm = try Background([mkosi, tools, "--machine=hellovm", "--tpm=yes", "--runtime-build-sources=yes", "vm"], cwd: p.dir)
        let booted = vm.wait(for: "hello login:", timeout: 400)
        #expect(booted, "no login prompt: \(vm.output.suffix(3000))")
        if booted {
            let state = try String(contentsOfFile: "/run/mkosi/machine/hellovm.json", encoding: .utf8)
            #expect(state.contains("\"ProxyCommand\": \"socat - TCP:127.0.0.1:") && state.contains("mkosi.key"), "\(state)")
            let ssh = try Shell.run([mkosi, tools, "--machine=hellovm", "ssh", "--", "test -c /dev/tpmrm0 && echo has-tpm; head -1 /work/src/hello.c; hostname"],
                                    cwd: p.dir)
            #expect(ssh.status == 0, "\(ssh.stderr)")
            #expect(ssh.stdout == "has-tpm\n\(firstLine)\nhello\n", "\(ssh.stdout)")
            // A clean shutdown, so the journal is on the disk.
            _ = try Shell.run([mkosi, tools, "--machine=hellovm", "ssh", "--", "systemctl poweroff"], cwd: p.dir)
            #expect(vm.waitForExit(timeout: 120), "the VM did not power off: \(vm.output.suffix(2000))")
        }
        vm.stop()
        #expect(try Self.pids("qemu-system|swtpm|virtiofsd").subtracting(before).isEmpty, "helpers outlived mkosi vm")
        #expect(!FileManager.default.fileExists(atPath: "/run/mkosi/machine/hellovm.json"), "the state file outlived the VM")

        if booted {
            let journal = try Shell.run([mkosi, tools, "journalctl", "--", "--no-pager", "-q", "-b", "-u", "ssh.service"], cwd: p.dir)
            #expect(journal.status == 0, "\(journal.stderr)")
            #expect(journal.stdout.contains("Started ssh.service") && journal.stdout.contains("Stopped ssh.service"), "\(journal.stdout.suffix(2000))")
        }

        // The build sources in a container too, and what vm refuses before starting anything.
        let shell = try Shell.run([mkosi, tools, "--runtime-build-sources=yes", "shell", "--", "head", "-1", "/work/src/hello.c"], cwd: p.dir)
        #expect(shell.status == 0 && shell.stdout == firstLine + "\n", "\(shell.stdout) \(shell.stderr)")
        let bindUser = try Shell.run([mkosi, tools, "--bind-user=yes", "vm"], cwd: p.dir)
        #expect(bindUser.status != 0 && bindUser.stderr.contains("does not support BindUser="), "\(bindUser.stderr)")
        let vsock = try Shell.run([mkosi, tools, "--vsock=yes", "vm"], cwd: p.dir)
        #expect(vsock.status != 0 && vsock.stderr.contains("/dev/vhost-vsock"), "\(vsock.stderr)")

        // serve: the output directory on port 8081.
        let serve = try Background([mkosi, tools, "serve"], cwd: p.dir)
        var served = Data()
        for _ in 0..<40 where served.isEmpty {
            usleep(250_000)
            served = (try? Shell.run(["curl", "-sf", "-o", p.dir + "/served.efi", "http://127.0.0.1:8081/hello.efi"]).status == 0)
                .flatMap { $0 ? FileManager.default.contents(atPath: p.dir + "/served.efi") : nil } ?? Data()
        }
        serve.stop()
        #expect(!served.isEmpty && served == FileManager.default.contents(atPath: p.dir + "/hello.efi"), "serve: \(serve.output.suffix(1000))")

        // burn: into a file and into a loop device of the image's size, byte for byte.
        let size = try FileManager.default.attributesOfItem(atPath: p.dir + "/hello.raw")[.size] as! UInt64
        let medium = p.dir + "/medium.img"
        #expect(try Shell.run(["truncate", "-s", String(size), medium]).status == 0)
        let burn = try Shell.run([mkosi, tools, "burn", medium], cwd: p.dir)
        #expect(burn.status == 0 && burn.stderr.contains("Burnt."), "\(burn.stderr)")
        #expect(try Shell.run(["cmp", p.dir + "/hello.raw", medium]).status == 0, "the burnt file differs from the image")
        let loop = try Shell.run(["losetup", "-f", "--show", medium]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if loop.hasPrefix("/dev/loop") {
            _ = try Shell.run(["dd", "if=/dev/zero", "of=\(loop)", "bs=1M", "count=8", "conv=notrunc", "status=none"])
            let onLoop = try Shell.run([mkosi, tools, "burn", loop], cwd: p.dir)
            #expect(onLoop.status == 0, "\(onLoop.stderr)")
            #expect(try Shell.run(["cmp", p.dir + "/hello.raw", loop]).status == 0, "the burnt loop device differs from the image")
            _ = try Shell.run(["losetup", "-d", loop])
        }
        // A mounted device is refused and left alone.
        let fs = p.dir + "/fs.img"
        _ = try Shell.run(["truncate", "-s", "32M", fs])
        _ = try Shell.run(["mkfs.ext4", "-q", fs])
        let fsLoop = try Shell.run(["losetup", "-f", "--show", fs]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.createDirectory(atPath: p.dir + "/mnt", withIntermediateDirectories: true)
        if fsLoop.hasPrefix("/dev/loop"), try Shell.run(["mount", fsLoop, p.dir + "/mnt"]).status == 0 {
            let refused = try Shell.run([mkosi, tools, "burn", fsLoop], cwd: p.dir)
            #expect(refused.status != 0 && refused.stderr.contains("is mounted"), "\(refused.stderr)")
            _ = try Shell.run(["umount", p.dir + "/mnt"])
        }
        if fsLoop.hasPrefix("/dev/loop") { _ = try Shell.run(["losetup", "-d", fsLoop]) }

        // init: upstream's tmpfiles.d drop-in for the package cache.
        let home = p.dir + "/home"
        let initRun = try Shell.run(["env", "HOME=\(home)", "XDG_CONFIG_HOME=", mkosi, "init"], cwd: p.dir)
        #expect(initRun.status == 0, "\(initRun.stderr)")
        #expect((try? String(contentsOfFile: home + "/.config/user-tmpfiles.d/mkosi.conf", encoding: .utf8))?.contains("d %C/mkosi - - - 90d") == true)

        // latest-snapshot: from a snapshot service on 127.0.0.1, and a clear error without one.
        let service = p.dir + "/snapshots"
        try FileManager.default.createDirectory(atPath: service + "/mr", withIntermediateDirectories: true)
        try "{\"_api\": \"0.3\", \"result\": {\"debian\": [\"20250101T000000Z\", \"20261201T091500Z\"]}}"
            .write(toFile: service + "/mr/timestamp", atomically: true, encoding: .utf8)
        let port = 18000 + Int.random(in: 0..<1000)
        let http = try Background(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", String(port)], cwd: service)
        usleep(1_000_000)
        let latest = try Shell.run([mkosi, tools, "--mirror=http://127.0.0.1:\(port)", "latest-snapshot"], cwd: p.dir)
        http.stop(kill: true)
        #expect(latest.status == 0 && latest.stdout == "20261201T091500Z\n", "\(latest.stdout) \(latest.stderr)")
        let unreachable = try Shell.run([mkosi, tools, "--mirror=http://127.0.0.1:9", "latest-snapshot"], cwd: p.dir)
        #expect(unreachable.status != 0 && unreachable.stderr.contains("Could not get the latest snapshot from http://127.0.0.1:9/mr/timestamp"),
                "\(unreachable.stderr)")

        // The same example as a directory, booted over virtiofs.
        let dir = try Shell.run([mkosi, tools, "--format=directory", "--output=hellodir", "build"], cwd: p.dir)
        #expect(dir.status == 0, "\(dir.stderr.suffix(3000))")
        if dir.status == 0 {
            let directoryVM = try Background([mkosi, tools, "--format=directory", "--output=hellodir", "--machine=hellodir", "vm"], cwd: p.dir)
            let up = directoryVM.wait(for: "hello login:", timeout: 400)
            directoryVM.stop()
            #expect(up, "the directory image did not boot: \(directoryVM.output.suffix(3000))")
            #expect(try Self.pids("qemu-system|virtiofsd").subtracting(before).isEmpty, "helpers outlived mkosi vm")
        }
        #expect(p.leftovers().isEmpty)
    }
}
