import Foundation
import Testing
@testable import MkosiVM
@testable import MkosiConfig
import MkosiCore

struct QemuTests {
    /// Writes firmware descriptors like Debian's ovmf package ships them.
    func descriptors() throws -> String {
        let dir = NSTemporaryDirectory() + "/mkosi-fw-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func write(_ name: String, features: [String], code: String, vars: String) throws {
            let json = """
                {"interface-types": ["uefi"], "mapping": {"device": "flash", "mode": "split",
                 "executable": {"filename": "\(code)", "format": "raw"},
                 "nvram-template": {"filename": "\(vars)", "format": "raw"}},
                 "targets": [{"architecture": "x86_64", "machines": ["pc-q35-*"]}],
                 "features": [\(features.map { "\"\($0)\"" }.joined(separator: ", "))]}
                """
            try json.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        try write("40-edk2-x86_64-secure-enrolled.json", features: ["acpi-s3", "enrolled-keys", "requires-smm", "secure-boot"],
                  code: "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd")
        try write("50-edk2-x86_64-secure.json", features: ["acpi-s3", "requires-smm", "secure-boot"],
                  code: "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd")
        try write("60-edk2-x86_64.json", features: ["acpi-s3"],
                  code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd")
        return dir
    }

    @Test func firmwareIsPickedByFeatures() throws {
        let dir = try descriptors()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secure = Qemu.findFirmware(descriptorDirectories: [dir], architecture: "x86_64", machine: "q35", secureBoot: true)
        #expect(secure?.code == "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd")
        let plain = Qemu.findFirmware(descriptorDirectories: [dir], architecture: "x86_64", machine: "q35", secureBoot: false)
        #expect(plain?.code == "/usr/share/OVMF/OVMF_CODE_4M.fd" && plain?.variables == "/usr/share/OVMF/OVMF_VARS_4M.fd")
        #expect(Qemu.findFirmware(descriptorDirectories: [dir], architecture: "aarch64", machine: "virt", secureBoot: false) == nil)
        #expect(Qemu.findFirmware(descriptorDirectories: [dir + "/missing"], architecture: "x86_64", machine: "q35", secureBoot: false) == nil)
    }

    @Test func kvmOnlyWhereTheCPUOffersIt() throws {
        let withVMX = "processor : 0\nflags\t\t: fpu vme vmx sse\n", without = "flags\t\t: fpu vme hypervisor sse\n"
        #expect(try Qemu.useKVM(.auto, cpuinfo: withVMX, canOpen: true))
        #expect(try !Qemu.useKVM(.auto, cpuinfo: without, canOpen: true))
        #expect(try !Qemu.useKVM(.auto, cpuinfo: withVMX, canOpen: false))
        #expect(try !Qemu.useKVM(.disabled, cpuinfo: withVMX, canOpen: true))
        #expect(try Qemu.useKVM(.enabled, cpuinfo: without, canOpen: true))
        #expect(throws: MkosiError.self) { try Qemu.useKVM(.enabled, cpuinfo: withVMX, canOpen: false) }
    }

    @Test func commandLineExtraAndEscaping() throws {
        let config = Config(image: "main", files: [], values: [
            "kernel_command_line_extra": .list([.string("systemd.hostname=vm"), .string("x=a b"), .string("loglevel=7")]),
            "console": .string("native"),
        ], origins: [:], directory: nil)
        let args = Qemu.commandLineExtra(config, term: "vt220", columns: 100, rows: 30)
        #expect(args.first == "systemd.wants=network.target")
        #expect(args.contains("console=hvc0") && args.contains("systemd.tty.columns.hvc0=100"))
        #expect(!args.contains("loglevel=4") && args.suffix(3) == ["systemd.hostname=vm", "x=\"a b\"", "loglevel=7"])
        #expect(Qemu.escapeOption("a,b,,c") == "a,,b,,,,c")
    }

    @Test func base64MatchesTheStandard() {
        #expect(Qemu.base64(Array("".utf8)) == "")
        #expect(Qemu.base64(Array("f".utf8)) == "Zg==")
        #expect(Qemu.base64(Array("fo".utf8)) == "Zm8=")
        #expect(Qemu.base64(Array("foobar".utf8)) == "Zm9vYmFy")
        let bytes: [UInt8] = (0..<255).map { UInt8($0) }
        #expect(Qemu.base64(bytes) == Data(bytes).base64EncodedString())
    }
}
