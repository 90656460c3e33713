import Foundation
@testable import MkosiVM
@testable import MkosiConfig
import MkosiCore

/// A project directory with an `mkosi.conf`, loaded as `mkosi` would, and planned against a
/// host described by hand.
final class PlanProject {
    let dir: String
    static let head = "[Distribution]\nDistribution=debian\nRelease=trixie\nArchitecture=x86-64\n[Build]\nToolsTree=\n[Output]\n"

    /// `conf` follows `head` (7 lines), so its first line is line 8 of mkosi.conf.
    init(_ conf: String, files: [String: String] = [:]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-plan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try (Self.head + conf).write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dir + "/" + name)
        }
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func config(_ argv: [String] = [], verb: String = "vm") throws -> Config {
        let loaded = try ConfigLoader.load(argv + [verb], cwd: dir, resources: BuiltinResources())
        guard let main = loaded.main else { throw MkosiError(.config, "no main image") }
        return main
    }

    /// The plan, with the image facts `adjust` sets (by default: the output exists, nothing beside it).
    func plan(_ argv: [String] = [], verb: Verb = .vm, host: RuntimeHost = .tcg, arguments: [String] = [],
              credentials: [(name: String, value: [UInt8])] = [], adjust: (inout ImageFacts) -> Void = { _ in }) throws -> Machine {
        let config = try self.config(argv, verb: verb.rawValue)
        var facts = ImageFacts(output: Path.join(dir, config.outputWithCompression))
        facts.size = 8192
        adjust(&facts)
        return try Machine.plan(config, image: facts, request: MachineRequest(verb: verb, cwd: dir, credentials: credentials,
                                                                               arguments: arguments), host: host)
    }

    /// The error the plan throws, nil when there is none.
    func refusal(_ argv: [String] = [], verb: Verb = .vm, host: RuntimeHost = .tcg,
                 adjust: (inout ImageFacts) -> Void = { _ in }) throws -> MkosiError? {
        do {
            _ = try plan(argv, verb: verb, host: host, adjust: adjust)
            return nil
        } catch let error as MkosiError {
            return error
        }
    }
}

extension RuntimeHost {
    /// Firmware descriptors as Debian's ovmf package ships them.
    static let ovmf: [FirmwareDescriptor] = [
        FirmwareDescriptor(path: "40-edk2-x86_64-secure-enrolled.json", code: "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", codeFormat: "raw",
                           variables: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", variablesFormat: "raw",
                           targets: [("x86_64", ["pc-q35-*"])], features: ["acpi-s3", "enrolled-keys", "requires-smm", "secure-boot"]),
        FirmwareDescriptor(path: "50-edk2-x86_64-secure.json", code: "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", codeFormat: "raw",
                           variables: "/usr/share/OVMF/OVMF_VARS_4M.fd", variablesFormat: "raw",
                           targets: [("x86_64", ["pc-q35-*"])], features: ["acpi-s3", "requires-smm", "secure-boot"]),
        FirmwareDescriptor(path: "60-edk2-x86_64.json", code: "/usr/share/OVMF/OVMF_CODE_4M.fd", codeFormat: "raw",
                           variables: "/usr/share/OVMF/OVMF_VARS_4M.fd", variablesFormat: "raw",
                           targets: [("x86_64", ["pc-q35-*"])], features: ["acpi-s3"]),
    ]

    /// This project's CI machines: two CPUs, no KVM, no vsock, no machined, not root, no display,
    /// a terminal; the tools of the Debian trixie tools tree (no systemd-pty-forward).
    static var tcg: RuntimeHost {
        var host = RuntimeHost()
        host.cpus = 2
        host.terminal = Terminal(isTTY: true, term: "xterm-256color", columns: 100, rows: 30)
        host.invokingUser = "me"
        host.tools.qemu = ["qemu-system-x86_64"]
        host.tools.virtiofsd = "/usr/libexec/virtiofsd"
        host.tools.swtpm = true
        host.tools.vmspawn = true
        host.tools.journalRemote = "/usr/lib/systemd/systemd-journal-remote"
        host.tools.firmware = ovmf
        host.tools.firmwareDirectories = ["/usr/share/qemu/firmware"]
        return host
    }

    /// A workstation: KVM, vsock, machined, systemd as PID 1, a display, systemd-pty-forward.
    static var kvmHost: RuntimeHost {
        var host = tcg
        host.kvmDevice = true
        host.cpuVirtualization = true
        host.vhostVsock = true
        host.machinedSocket = "/run/user/1000/systemd/machine/io.systemd.Machine"
        host.systemScope = true
        host.userScope = true
        host.graphicalDisplay = true
        host.tools.ptyForward = "/usr/bin/systemd-pty-forward"
        return host
    }
}

extension Array where Element == String {
    /// Whether `piece` appears in order, contiguously.
    func has(_ piece: [String]) -> Bool { indices.contains { self[$0...].starts(with: piece) } }
}
