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
        let descriptors = FirmwareDescriptor.read(directories: [dir])
        #expect(descriptors.map { ($0.path as NSString).lastPathComponent } == RuntimeHost.ovmf.map(\.path))
        #expect(descriptors.map(\.code) == RuntimeHost.ovmf.map(\.code) && descriptors.map(\.features) == RuntimeHost.ovmf.map(\.features))
        func pick(_ descriptors: [FirmwareDescriptor], arch: String = "x86_64", machine: String = "q35", secureBoot: Bool,
                  microsoft: Bool = false) -> FirmwareDescriptor? {
            FirmwareDescriptor.pick(descriptors, architecture: arch, machine: machine, secureBoot: secureBoot, microsoftKeys: microsoft)
        }
        #expect(pick(descriptors, secureBoot: true)?.code == "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd")
        #expect(pick(descriptors, secureBoot: true, microsoft: true)?.code == "/usr/share/OVMF/OVMF_CODE_4M.ms.fd")
        let plain = pick(descriptors, secureBoot: false)
        #expect(plain?.code == "/usr/share/OVMF/OVMF_CODE_4M.fd" && plain?.variables == "/usr/share/OVMF/OVMF_VARS_4M.fd")
        #expect(pick(descriptors, arch: "aarch64", machine: "virt", secureBoot: false) == nil)
        #expect(FirmwareDescriptor.read(directories: [dir + "/missing"]).isEmpty)
    }

    @Test func kvmOnlyWhereTheCPUOffersIt() throws {
        #expect(RuntimeHost.cpuOffersVirtualization("processor : 0\nflags\t\t: fpu vme vmx sse\n"))
        #expect(RuntimeHost.cpuOffersVirtualization("flags\t\t: fpu svm\n"))
        #expect(!RuntimeHost.cpuOffersVirtualization("flags\t\t: fpu vme hypervisor sse\n"))
    }

    @Test func commandLineExtraAndEscaping() throws {
        let config = Config(image: "main", files: [], values: [
            "kernel_command_line_extra": .list([.string("systemd.hostname=vm"), .string("x=a b"), .string("loglevel=7")]),
            "console": .string("native"),
        ], origins: [:], directory: nil)
        let args = RuntimeRules.commandLineExtra(config, term: "vt220", columns: 100, rows: 30)
        #expect(args.first == "systemd.wants=network.target")
        #expect(args.contains("console=hvc0") && args.contains("systemd.tty.columns.hvc0=100"))
        #expect(!args.contains("loglevel=4") && args.suffix(3) == ["systemd.hostname=vm", "x=\"a b\"", "loglevel=7"])
        #expect(QemuMonitor.escapeOption("a,b,,c") == "a,,b,,,,c")
    }

    @Test func base64MatchesTheStandard() {
        #expect(RuntimeRules.base64(Array("".utf8)) == "")
        #expect(RuntimeRules.base64(Array("f".utf8)) == "Zg==")
        #expect(RuntimeRules.base64(Array("fo".utf8)) == "Zm8=")
        #expect(RuntimeRules.base64(Array("foobar".utf8)) == "Zm9vYmFy")
        let bytes: [UInt8] = (0..<255).map { UInt8($0) }
        #expect(RuntimeRules.base64(bytes) == Data(bytes).base64EncodedString())
    }

    @Test func runtimeDeviceArguments() throws {
        #expect(QemuMonitor.memoryArgument(ram: 2 << 30, maxMem: 0) == "2048M")
        #expect(QemuMonitor.memoryArgument(ram: 2 << 30, maxMem: 8 << 30) == "2048M,maxmem=8192M")
        #expect(QemuMonitor.machineArgument(arm: false, uefi: true, secureBoot: true, sharedMemory: true, cxl: true)
                == "type=q35,smm=on,memory-backend=mem,cxl=on,hpet=off")
        #expect(QemuMonitor.machineArgument(arm: false, uefi: false, secureBoot: false, sharedMemory: false, cxl: false) == "type=q35,hpet=off")
        #expect(QemuMonitor.machineArgument(arm: true, uefi: true, secureBoot: true, sharedMemory: false, cxl: false) == "type=virt")

        let blk = QemuMonitor.rootDiskArguments(diskType: .virtioBlk, removable: false, size: 8192, pageSize: 4096, ephemeral: false)
        #expect(blk == ["-blockdev", "driver=raw,node-name=mkosi,discard=unmap,file.driver=file,file.filename=/work/image,file.aio=threads,cache.direct=on,cache.no-flush=off",
                        "-device", "virtio-blk-pci,drive=mkosi,bootindex=1"])
        // Removable= moves the disk to virtio-scsi; odd sizes get no direct I/O.
        let removable = QemuMonitor.rootDiskArguments(diskType: .virtioBlk, removable: true, size: 8191, pageSize: 4096, ephemeral: true)
        #expect(removable.prefix(2) == ["-device", "virtio-scsi-pci,id=mkosi"])
        #expect(removable.last == "scsi-hd,device_id=mkosi,removable=on,drive=mkosi,bootindex=1")
        #expect(removable[3].hasSuffix("cache.direct=off,cache.no-flush=on"))
        #expect(QemuMonitor.rootDiskArguments(diskType: .nvme, removable: false, size: 0, pageSize: 4096, ephemeral: false).last
                == "nvme,serial=mkosi,drive=mkosi,bootindex=1")

        let drive = Drive(id: "data", size: 1 << 20, directory: "/srv", options: "read-only=on", fileId: "data", flags: ["persist"])
        #expect(Launcher.driveFile(drive, machine: "vm", unique: "x") == "/srv/mkosi-drive-vm-data")
        #expect(Launcher.driveFile(Drive(id: "a", size: 1, directory: nil, options: nil, fileId: "f", flags: []), machine: "vm", unique: "x")
                == "/var/tmp/mkosi-drive-vm-f-x")
        #expect(QemuMonitor.driveArguments(drive, path: "/work/drive-data") == ["-blockdev",
                "driver=raw,node-name=data,file.driver=file,file.filename=/work/drive-data,file.aio=threads,file.locking=off,cache.direct=on,cache.no-flush=on,read-only=on"])

        #expect(QemuMonitor.nicArguments(.user, forward: (40000, 2222)) == ["-nic", "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:40000-:2222"])
        #expect(QemuMonitor.nicArguments(.none, forward: nil) == ["-nic", "none"])
        #expect(VsockCID.hash([1, 0, 0, 0]) == 3 && VsockCID.hash([0x10, 0x20, 0x30, 0x40]) == 0x4030_2010
                && VsockCID.hash([0xFF, 0xFF, 0xFF, 0xFF]) == 0xFFFF_FFFE)
    }

    @Test func emulatedMachinesGetTheHostsCPUsByDefault() {
        #expect(RuntimeRules.vCPUs(1, isDefault: true, kvm: false, hostCPUs: 2) == 2)
        #expect(RuntimeRules.vCPUs(1, isDefault: true, kvm: false, hostCPUs: 64) == 4)
        #expect(RuntimeRules.vCPUs(1, isDefault: true, kvm: true, hostCPUs: 8) == 1)
        #expect(RuntimeRules.vCPUs(1, isDefault: false, kvm: false, hostCPUs: 8) == 1)
        #expect(RuntimeRules.vCPUs(0, isDefault: false, kvm: true, hostCPUs: 8) == 8)
        #expect(RuntimeRules.vCPUs(3, isDefault: false, kvm: false, hostCPUs: 2) == 3)
    }

    /// `TPM=auto` as upstream: UEFI and swtpm decide, an emulated CPU does not.
    @Test func tpmAutoWithUEFIAndSwtpm() {
        #expect(RuntimeRules.wantTPM(.auto, uefi: true, available: true))
        #expect(!RuntimeRules.wantTPM(.auto, uefi: false, available: true))
        #expect(!RuntimeRules.wantTPM(.auto, uefi: true, available: false))
        #expect(RuntimeRules.wantTPM(.enabled, uefi: false, available: false))
        #expect(!RuntimeRules.wantTPM(.disabled, uefi: true, available: true))
    }

    @Test func stateFileRoundTrips() throws {
        let state = VMState(machine: "hello", pid: 42, proxyCommand: "socat - TCP:127.0.0.1:4000", sshKey: "/p/mkosi.key")
        #expect(state.json == "{\n    \"Machine\": \"hello\",\n    \"Pid\": 42,\n    \"ProxyCommand\": \"socat - TCP:127.0.0.1:4000\",\n    \"SshKey\": \"/p/mkosi.key\"\n}\n")
        #expect(try VMState.parse(state.json) == state)
        let noKey = VMState(machine: "m", pid: 1, proxyCommand: "socat - VSOCK-CONNECT:7:%p", sshKey: nil)
        #expect(try VMState.parse(noKey.json) == noKey)
        #expect(throws: MkosiError.self) { try VMState.parse("{}") }
    }

    @Test func containerCommandLineHasOnlyTheBasics() throws {
        let config = Config(image: "main", files: [], values: [
            "kernel_command_line_extra": .list([.string("systemd.hostname=c"), .string("FOO=a b")]),
        ], origins: [:], directory: nil)
        #expect(RuntimeRules.commandLineExtra(config, forContainer: true)
                == ["systemd.wants=network.target", "SYSTEMD_SULOGIN_FORCE=1", "systemd.hostname=c", "FOO=\"a b\""])
    }
}
