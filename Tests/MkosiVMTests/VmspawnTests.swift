import Foundation
import Testing
@testable import MkosiVM
@testable import MkosiConfig
import MkosiCore

struct VmspawnTests {
    /// A minimal PE image: DOS header, PE signature, file header, no optional header, and a
    /// section table with `sections`.
    static func pe(sections: [String]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x80)
        bytes[0] = 0x4d; bytes[1] = 0x5a
        bytes[0x3c] = 0x80
        bytes += Array("PE\0\0".utf8)
        var header = [UInt8](repeating: 0, count: 20)
        header[2] = UInt8(sections.count)
        bytes += header
        for name in sections {
            var entry = [UInt8](repeating: 0, count: 40)
            for (i, c) in name.utf8.prefix(8).enumerated() { entry[i] = c }
            bytes += entry
        }
        return bytes
    }

    @Test func ukisAreRecognizedByTheirLinuxSection() {
        #expect(Vmspawn.isUKI(Self.pe(sections: [".text", ".osrel", ".cmdline", ".linux", ".initrd"])))
        #expect(!Vmspawn.isUKI(Self.pe(sections: [".text", ".data"])))  // a plain EFI-stub kernel
        #expect(!Vmspawn.isUKI(Array("\u{7f}ELF".utf8) + [UInt8](repeating: 0, count: 200)))
        #expect(!Vmspawn.isUKI(Array(Self.pe(sections: [".linux"]).prefix(0x90))))  // cut short
        #expect(!Vmspawn.isUKI([]))
    }

    @Test func argumentsFollowUpstreamsOrder() {
        var plan = Vmspawn.Plan(cpus: 2, ram: 2_147_483_648, kvm: false, vsock: .auto, tpm: false, console: .native,
                                register: false, network: .user, ephemeral: false, diskType: .virtioBlk)
        plan.firmwareFeatures = ["secure-boot"]
        plan.nvramTemplate = "/var/tmp/x/ovmf-vars"
        plan.credentials = [("firstboot.locale", "/var/tmp/x/credentials/firstboot.locale")]
        plan.binds = [("/src", "/work/src"), ("/home/me/tree", "/root/src")]
        plan.image = "/out/image.raw"
        plan.kernelArguments = ["systemd.wants=network.target", "rw"]
        #expect(Vmspawn.arguments(plan) == [
            "systemd-vmspawn", "--cpus", "2", "--ram", "2147483648", "--kvm", "no", "--vsock", "auto", "--tpm", "no",
            "--tpm-state=off", "--console", "native", "--register", "no", "--firmware-features", "secure-boot",
            "--network-user-mode", "--efi-nvram-template", "/var/tmp/x/ovmf-vars",
            "--load-credential=firstboot.locale:/var/tmp/x/credentials/firstboot.locale",
            "--bind", "/src:/work/src", "--bind", "/home/me/tree:/root/src", "--image", "/out/image.raw",
            "systemd.wants=network.target", "rw",
        ])

        var direct = Vmspawn.Plan(cpus: 1, ram: 1 << 30, kvm: true, vsock: .disabled, tpm: true, console: .headless,
                                  register: true, network: .none, ephemeral: true, diskType: .nvme)
        direct.linux = "/out/image.vmlinuz"
        direct.initrd = "/out/image.initrd"
        direct.directory = "/out/image"
        direct.growImage = 8 << 30
        direct.bindUser = "me"
        direct.forwardJournal = "/var/log/vm.journal"
        let argv = Vmspawn.arguments(direct)
        #expect(argv.starts(with: ["systemd-vmspawn", "--cpus", "1", "--ram", "1073741824", "--kvm", "yes", "--vsock", "no",
                                   "--tpm", "yes", "--tpm-state=off", "--console", "headless", "--register", "yes"]))
        #expect(!argv.contains("--firmware-features") && !argv.contains("--network-user-mode") && !argv.contains("--image"))
        for piece in [["--grow-image", "8589934592"], ["--bind-user", "me", "--bind-user-group=wheel"], ["--ephemeral"],
                      ["--linux", "/out/image.vmlinuz", "--initrd", "/out/image.initrd"], ["--directory", "/out/image"],
                      ["--image-disk-type", "nvme"], ["--forward-journal", "/var/log/vm.journal"]] {
            #expect(argv.indices.contains { argv[$0...].starts(with: piece) }, "\(piece) missing from \(argv)")
        }
        #expect(argv.contains("--forward-journal-max-files=1"))
        #expect(!argv.contains("--keep-unit") && !argv.contains("--user"))

        // A host without systemd as PID 1: no scope of vmspawn's own, and no bus opened at all.
        var unitless = plan
        unitless.keepUnit = true
        unitless.userScope = true
        let keep = Vmspawn.arguments(unitless)
        #expect(keep.starts(with: Vmspawn.arguments(plan).prefix(16) + ["--keep-unit", "--user"]), "\(keep)")
    }

    @Test func vmspawnLeavesTheConsoleToItself() {
        let config = Config(image: "main", files: [], values: ["console": .string("native")], origins: [:], directory: nil)
        let args = RuntimeRules.commandLineExtra(config, term: "vt220", columns: 80, rows: 24, vmspawn: true)
        #expect(args.starts(with: ["systemd.wants=network.target", "SYSTEMD_SULOGIN_FORCE=1", "rw", "module_blacklist=vmw_vmci"]))
        #expect(!args.contains { $0.hasPrefix("console=") || $0.hasPrefix("systemd.tty.") || $0.hasPrefix("TERM=") })
        #expect(args.contains("loglevel=4") && args.contains("ip=none"))
    }
}
