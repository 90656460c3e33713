import Foundation
import Testing
@testable import MkosiVM
@testable import MkosiConfig
import MkosiCore

/// `Machine.plan`: every runtime setting and every refusal, on hosts described by hand.
struct MachinePlanTests {
    let launch = LaunchResources(temp: "/var/tmp/mkosi-vm-x", image: "/p/image.raw")

    @Test func aDiskOnAnEmulatingHost() throws {
        let p = try PlanProject("Format=disk\n")
        let m = try p.plan(credentials: [("firstboot.locale", Array("C.UTF-8".utf8))])
        #expect(m.monitor == .qemu && m.boot == .uefi(secureBoot: true) && !m.kvm && m.cpus == 2)
        #expect(m.tpm && !m.vsock && !m.sshForward && !m.register && !m.ephemeral && m.console == .native)
        #expect(m.firmware?.code == "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd" && m.variables == .template)
        #expect(m.notes.contains { $0.hasPrefix("Emulating the CPU (TCG)") })
        var l = launch
        l.imageSize = 8192
        l.credentials = [("firstboot.locale", "/work/vm/credential-0")]
        let c = QemuMonitor.commandLine(for: m, launch: l)
        let expected = [
            "qemu-system-x86_64", "-machine", "type=q35,smm=on,hpet=off", "-smp", "2", "-m", "\(m.ram >> 20)M",
            "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0,id=rng-device0",
            "-device", "virtio-balloon,free-page-reporting=on", "-no-user-config", "-nic", "user,model=virtio-net-pci",
            "-cpu", "max", "-accel", "tcg", "-nographic", "-nodefaults", "-chardev", "stdio,mux=on,id=console,signal=off",
            "-device", "virtio-serial-pci,id=mkosi-virtio-serial-pci", "-device", "virtconsole,chardev=console", "-mon", "console",
            "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
            "-drive", "file=/work/vm/ovmf-vars,if=pflash,format=raw",
            "-global", "ICH9-LPC.disable_s3=1", "-global", "driver=cfi.pflash01,property=secure,value=on",
            "-blockdev", "driver=raw,node-name=mkosi,discard=unmap,file.driver=file,file.filename=/work/image,file.aio=threads,cache.direct=on,cache.no-flush=off",
            "-device", "virtio-blk-pci,drive=mkosi,bootindex=1", "-smbios", "type=11,path=/work/vm/credential-0",
        ]
        #expect(Array(c.argv.prefix(expected.count)) == expected, "\(c.argv)")
        let extra = try #require(c.argv.first { $0.hasPrefix("type=11,value=io.systemd.stub.kernel-cmdline-extra=") })
        #expect(extra.contains("console=hvc0") && extra.contains("systemd.tty.columns.hvc0=100") && extra.contains("TERM=xterm-256color"))
        #expect(c.binds.contains { $0.source == "/p/image.raw" && $0.target == "/work/image" })
        #expect(c.binds.contains { $0.source == "/var/tmp/mkosi-vm-x" && $0.target == "/work/vm" })
    }

    @Test func kvmAndCPUs() throws {
        let p = try PlanProject("Format=disk\n[Runtime]\nKVM=yes\n")
        let refused = try #require(try p.refusal())
        #expect(refused.code == .hostUnsupported && refused.description == "mkosi.conf:10: KVM=yes, but /dev/kvm cannot be opened")
        var noFlags = RuntimeHost.tcg
        noFlags.kvmDevice = true
        #expect(try p.plan(host: noFlags).kvm)  // yes trusts the device
        let auto = try PlanProject("Format=disk\n")
        #expect(try !auto.plan(host: noFlags).kvm)  // auto needs vmx/svm too
        let m = try auto.plan(host: .kvmHost)
        #expect(m.kvm && m.cpus == 1 && QemuMonitor.commandLine(for: m, launch: launch).argv.has(["-cpu", "host", "-accel", "kvm"]))
        #expect(try auto.plan(["--cpus=3"]).cpus == 3)
        #expect(try auto.plan(["--cpus=0"], host: .kvmHost).cpus == 2)
    }

    @Test func memory() throws {
        let p = try PlanProject("Format=disk\n[Runtime]\nRAM=1G\nMaxMem=4G\nCXL=yes\n")
        let m = try p.plan()
        #expect(m.ram == 1 << 30 && m.maxMem == 4 << 30 && m.cxl)
        let argv = QemuMonitor.commandLine(for: m, launch: launch).argv
        #expect(argv.has(["-m", "1024M,maxmem=4096M"]) && argv.has(["-machine", "type=q35,smm=on,cxl=on,hpet=off"]))
    }

    @Test func tpm() throws {
        // auto: under TCG (the CI machines) as with KVM, as upstream; not without UEFI or swtpm.
        let auto = try PlanProject("Format=disk\n")
        #expect(try auto.plan().tpm && auto.plan(host: .kvmHost).tpm)
        var tcgNoSwtpm = RuntimeHost.tcg
        tcgNoSwtpm.tools.swtpm = false
        #expect(try !auto.plan(host: tcgNoSwtpm).tpm)
        #expect(try auto.plan(["--vmm=vmspawn"]).tpm && !auto.plan(["--vmm=vmspawn"], host: tcgNoSwtpm).tpm)
        #expect(try !auto.plan(["--firmware=linux"], host: .kvmHost) { $0.vmlinuz = "/p/image.vmlinuz"; $0.rootArgument = "root=PARTUUID=x" }.tpm)
        let yes = try PlanProject("Format=disk\n[Runtime]\nTPM=yes\n")
        var noSwtpm = RuntimeHost.tcg
        noSwtpm.tools.swtpm = false
        let refused = try #require(try yes.refusal(host: noSwtpm))
        #expect(refused.code == .missingTool && refused.description.hasPrefix("mkosi.conf:10: TPM=yes, but swtpm is not installed"))
        let m = try yes.plan()
        var l = launch
        l.tpmSocket = "/work/vm/swtpm.sock"
        #expect(m.tpm && QemuMonitor.commandLine(for: m, launch: l).argv.has(["-chardev", "socket,id=chrtpm,path=/work/vm/swtpm.sock",
                                                                              "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0"]))
    }

    @Test func vsock() throws {
        let yes = try PlanProject("Format=disk\n[Runtime]\nVSock=yes\nVSockCID=hash\n")
        let refused = try #require(try yes.refusal())
        #expect(refused.code == .hostUnsupported && refused.description.contains("mkosi.conf:10: VSock=yes, but /dev/vhost-vsock cannot be opened"))
        let m = try yes.plan(host: .kvmHost)
        #expect(m.vsock && m.vsockCID == -2)
        var l = launch
        l.cid = 42
        #expect(QemuMonitor.commandLine(for: m, launch: l).argv.has(["-device", "vhost-vsock-pci,guest-cid=42"]))
        #expect(VsockCID.hash([0x10, 0x20, 0x30, 0x40]) == 0x4030_2010 && VsockCID.hash([1, 0, 0, 0]) == 3)
    }

    @Test func consoleModes() throws {
        let native = try PlanProject("Format=disk\n")
        let headless = try native.plan(["--console=headless"])
        let h = QemuMonitor.commandLine(for: headless, launch: launch).argv
        #expect(h.has(["-nographic", "-nodefaults"]) && !h.contains("-chardev") && !h.contains("-mon"))
        #expect(!headless.kernelArguments.contains("console=hvc0"))

        let gui = try PlanProject("Format=disk\n[Runtime]\nConsole=gui\n")
        let noDisplay = try #require(try gui.refusal())
        #expect(noDisplay.code == .hostUnsupported
                && noDisplay.description == "mkosi.conf:10: Console=gui needs a graphical display ($DISPLAY or $WAYLAND_DISPLAY), and there is none")
        let g = try gui.plan(host: .kvmHost)
        let ga = QemuMonitor.commandLine(for: g, launch: launch).argv
        #expect(ga.has(["-device", "virtio-vga", "-nodefaults", "-display", "sdl,gl=on", "-audio", "driver=pipewire,model=virtio"]))
        #expect(!ga.contains("-nographic") && !g.kernelArguments.contains("console=hvc0"))

        let interactive = try PlanProject("Format=disk\n[Runtime]\nConsole=interactive\n")
        let noForward = try #require(try interactive.refusal())
        #expect(noForward.code == .missingTool && noForward.description.hasPrefix("mkosi.conf:10: Console=interactive needs systemd-pty-forward")
                && noForward.hint?.contains("Console=native") == true)
        let i = QemuMonitor.commandLine(for: try interactive.plan(["--machine=main"], host: .kvmHost), launch: launch).argv
        #expect(i.starts(with: ["/usr/bin/systemd-pty-forward", "--background", "48;2;12;51;19", "--title", "Virtual Machine main",
                                "qemu-system-x86_64"]), "\(i)")
        #expect(i.has(["-chardev", "stdio,mux=on,id=console,signal=off"]))
        let r = QemuMonitor.commandLine(for: try native.plan(["--console=read-only", "--machine=main"], host: .kvmHost), launch: launch).argv
        #expect(r.starts(with: ["/usr/bin/systemd-pty-forward", "--background", "48;2;12;51;19", "--title", "Virtual Machine main",
                                "--read-only", "qemu-system-x86_64"]), "\(r)")
        var plain = RuntimeHost.kvmHost
        plain.tintBackground = false
        plain.adjustTitle = false
        #expect(try native.plan(["--console=interactive"], host: plain).ptyForward == nil)
        #expect(try native.plan(["--console=read-only"], host: plain).ptyForward == ["/usr/bin/systemd-pty-forward", "--read-only"])
    }

    @Test func networkAndSSH() throws {
        let p = try PlanProject("Format=disk\n[Runtime]\nRuntimeNetwork=interface\n")
        let refused = try #require(try p.refusal())
        #expect(refused.code == .hostUnsupported && refused.description == "mkosi.conf:10: RuntimeNetwork=interface requires root privileges")
        var root = RuntimeHost.tcg
        root.isRoot = true
        #expect(QemuMonitor.commandLine(for: try p.plan(host: root), launch: launch).argv.has(["-nic", "tap,script=no,model=virtio-net-pci"]))
        let none = try PlanProject("Format=disk\n")
        #expect(QemuMonitor.commandLine(for: try none.plan(["--runtime-network=none"]), launch: launch).argv.has(["-nic", "none"]))

        let ssh = try PlanProject("Format=disk\n[Runtime]\nSshKey=ssh.key\n", files: ["ssh.key": "key"])
        let m = try ssh.plan()
        #expect(m.sshForward && m.kernelArguments.contains("systemd.ssh_listen=2222"))
        var l = launch
        l.sshPort = 40000
        #expect(QemuMonitor.commandLine(for: m, launch: l).argv.has(["-nic", "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:40000-:2222"]))
        #expect(try !ssh.plan(host: .kvmHost).sshForward)  // vsock instead
    }

    @Test func sharesThroughVirtiofs() throws {
        let p = try PlanProject("Format=disk\n[Runtime]\nRuntimeTrees=/srv/a:tree\n")
        let m = try p.plan(credentials: [("fstab.extra", Array("x".utf8))])
        #expect(m.shares == [Machine.Share(source: "/srv/a", target: "/root/src/tree")])
        #expect(m.credentials.filter { $0.name == "fstab.extra" }.map { String(decoding: $0.value, as: UTF8.self) }
                == ["/root/src/tree /root/src/tree virtiofs x-initrd.mount\n"])
        var l = launch
        l.shareSockets = ["/work/vm/virtiofs-0.sock"]
        let argv = QemuMonitor.commandLine(for: m, launch: l).argv
        #expect(argv.has(["-chardev", "socket,id=sock-0,path=/work/vm/virtiofs-0.sock",
                          "-device", "vhost-user-fs-pci,queue-size=1024,chardev=sock-0,tag=/root/src/tree"]))
        #expect(argv.has(["-object", "memory-backend-memfd,id=mem,size=\(m.ram >> 20)M,share=on"]))

        let long = try PlanProject("Format=disk\n[Runtime]\nRuntimeTrees=/srv/a:/a/very/long/target/directory/beyond/36\n")
        let refused = try #require(try long.refusal())
        #expect(refused.description.hasPrefix("mkosi.conf:10: virtio-fs tag /a/very/long/target/directory/beyond/36 derived from the destination is too long"))
        var noVirtiofsd = RuntimeHost.tcg
        noVirtiofsd.tools.virtiofsd = nil
        #expect(try p.refusal(host: noVirtiofsd)?.code == .missingTool)

        let sources = try PlanProject("Format=disk\n[Build]\nBuildSources=.:proj\n[Runtime]\nRuntimeBuildSources=yes\n")
        #expect(try sources.plan().shares.map(\.target) == ["/work/src/proj"])
    }

    @Test func kernelCommandLineAndCredentials() throws {
        let p = try PlanProject("Format=disk\n[Content]\nKernelCommandLine=quiet\n[Runtime]\nKernelCommandLineExtra=systemd.hostname=vm x=a,b\n")
        let m = try p.plan(credentials: [("a", [1]), ("b", [2])])
        #expect(m.kernelArguments.first == "systemd.wants=network.target" && m.kernelArguments.suffix(2) == ["systemd.hostname=vm", "x=a,b"])
        #expect(!m.kernelArguments.contains("quiet"))  // the UKI has it already
        var l = launch
        l.credentials = [("a", "/work/vm/credential-0"), ("b", "/work/vm/credential-1")]
        let argv = QemuMonitor.commandLine(for: m, launch: l).argv
        #expect(argv.has(["-smbios", "type=11,path=/work/vm/credential-0", "-smbios", "type=11,path=/work/vm/credential-1"]))
        #expect(argv.contains { $0.hasPrefix("type=11,value=io.systemd.boot.kernel-cmdline-extra=") && $0.hasSuffix("x=a,,b") })
    }

    @Test func directKernelBoot() throws {
        let p = try PlanProject("Format=disk\n[Runtime]\nFirmware=linux\n")
        let noKernel = try #require(try p.refusal())
        #expect(noKernel.code == .notBuilt && noKernel.message.hasPrefix("No kernel for direct boot"))
        let noRoot = try #require(try p.refusal { $0.vmlinuz = "/p/image.vmlinuz" })
        #expect(noRoot.code == .invalidData)
        let m = try p.plan { $0.vmlinuz = "/p/image.vmlinuz"; $0.initrd = "/p/image.initrd"; $0.rootArgument = "root=PARTUUID=abc" }
        #expect(m.boot == .linux && m.firmware == nil && m.kernel == "/p/image.vmlinuz" && m.initrds == ["/p/image.initrd"])
        var l = launch
        l.initrd = "/p/image.initrd"
        let argv = QemuMonitor.commandLine(for: m, launch: l).argv
        #expect(argv.has(["-kernel", "/work/vmlinuz", "-initrd", "/work/initrd", "-append"]))
        #expect(argv[argv.firstIndex(of: "-append")! + 1].hasPrefix("root=PARTUUID=abc systemd.wants=network.target"))
        #expect(argv.has(["-machine", "type=q35,hpet=off"]) && !argv.contains("-drive"))

        let tree = try PlanProject("Format=directory\n")
        let noInitrd = try #require(try tree.refusal { $0.vmlinuz = "/p/image.vmlinuz" })
        #expect(noInitrd.code == .notBuilt && noInitrd.message.hasPrefix("No initrd to boot the directory image with"))
        let d = try tree.plan { $0.vmlinuz = "/p/image.vmlinuz"; $0.initrd = "/p/image.initrd"; $0.hasSystemd = true }
        #expect(d.rootShare && d.kernelArguments.starts(with: ["root=root", "rootfstype=virtiofs", "init=/usr/lib/systemd/systemd"]))
    }

    @Test func firmwareAndVariables() throws {
        let custom = try PlanProject("Format=disk\n[Runtime]\nFirmwareVariables=custom\n")
        let refused = try #require(try custom.refusal())
        #expect(refused.description.hasPrefix("mkosi.conf:10: FirmwareVariables=custom needs a certificate"))
        let file = try PlanProject("Format=disk\n[Runtime]\nFirmwareVariables=/no/vars.fd\n")
        #expect(try file.refusal { $0.firmwareVariablesExist = false }?.description == "mkosi.conf:10: Firmware variables file /no/vars.fd does not exist")
        #expect(try file.plan().variables == .file("/no/vars.fd"))
        let microsoft = try PlanProject("Format=disk\n[Runtime]\nFirmwareVariables=microsoft\n")
        #expect(try microsoft.plan().firmware?.code == "/usr/share/OVMF/OVMF_CODE_4M.ms.fd")
        let plain = try PlanProject("Format=disk\n[Runtime]\nFirmware=uefi\n")
        #expect(try plain.plan().firmware?.code == "/usr/share/OVMF/OVMF_CODE_4M.fd")
        var noFirmware = RuntimeHost.tcg
        noFirmware.tools.firmware = []
        let missing = try #require(try plain.refusal(host: noFirmware))
        #expect(missing.code == .missingTool && missing.message.hasPrefix("No UEFI firmware (OVMF) found"))
    }

    @Test func drivesDisksAndExtraArguments() throws {
        let p = try PlanProject("Format=disk\n[Runtime]\nDrives=a:1G:::shared\nDrives=b:1G:::shared\nDiskType=nvme\nQemuArgs=-smp 3\n")
        let m = try p.plan(arguments: ["-s"])
        #expect(m.drives.map { $0.map(\.id) } == [["a", "b"]] && m.qemuArguments == ["-smp", "3", "-s"])
        var l = launch
        l.driveFiles = ["/var/tmp/mkosi-drive-main-shared-1"]
        let argv = QemuMonitor.commandLine(for: m, launch: l).argv
        #expect(argv.suffix(3) == ["-smp", "3", "-s"])
        #expect(argv.contains("nvme,serial=mkosi,drive=mkosi,bootindex=1"))
        #expect(argv.filter { $0.hasPrefix("driver=raw,node-name=a,") || $0.hasPrefix("driver=raw,node-name=b,") }.count == 2)
        let removable = try PlanProject("Format=disk\n[Runtime]\nRemovable=yes\n")
        #expect(QemuMonitor.commandLine(for: try removable.plan(), launch: launch).argv.contains("scsi-hd,device_id=mkosi,removable=on,drive=mkosi,bootindex=1"))
    }

    @Test func ephemeralRuntimeSizeRegisterJournalBindUser() throws {
        let p = try PlanProject("Format=disk\n[Runtime]\nEphemeral=yes\nRuntimeSize=8G\n")
        let m = try p.plan()
        #expect(m.ephemeral && m.runtimeSize == 8 << 30)
        let cpio = try PlanProject("Format=cpio\n[Runtime]\nEphemeral=yes\nRuntimeSize=8G\n")
        let c = try cpio.plan { $0.vmlinuz = "/p/image.vmlinuz" }
        #expect(!c.ephemeral && c.runtimeSize == nil && c.initrds == [c.image])

        let register = try PlanProject("Format=disk\n[Runtime]\nRegister=yes\n")
        #expect(try register.refusal()?.description.hasPrefix("mkosi.conf:10: Register=yes, but systemd-machined is not available") == true)
        let r = try register.plan(host: .kvmHost)
        #expect(r.register && r.machinedSocket == RuntimeHost.kvmHost.machinedSocket)
        #expect(try p.plan(host: .kvmHost).register)  // auto: where machined runs

        let journal = try PlanProject("Format=disk\n[Runtime]\nForwardJournal=/var/log/vm.journal\n")
        #expect(try journal.refusal()?.description.hasPrefix("mkosi.conf:10: ForwardJournal= needs a vsock") == true)
        #expect(try journal.plan(host: .kvmHost).forwardJournal == "/var/log/vm.journal")

        let bindUser = try PlanProject("Format=disk\n[Runtime]\nBindUser=yes\n")
        #expect(try bindUser.refusal()?.description == "mkosi.conf:10: mkosi vm does not support BindUser=")
    }

    @Test func formatsQemuRefuses() throws {
        let tar = try PlanProject("Format=tar\n")
        #expect(try tar.refusal()?.code == .unsupported)
        let compressed = try PlanProject("Format=disk\nCompressOutput=zstd\n")
        #expect(try compressed.refusal()?.description.hasPrefix("mkosi.conf:9: Cannot boot a compressed disk image") == true)
        var noQemu = RuntimeHost.tcg
        noQemu.tools.qemu = []
        #expect(try PlanProject("Format=disk\n").refusal(host: noQemu)?.message == "qemu-system-x86_64 is not installed")
        // Without qemu and without firmware, the firmware is named first (as before qemu was checked).
        noQemu.tools.firmware = []
        #expect(try PlanProject("Format=disk\n").refusal(host: noQemu)?.message.hasPrefix("No UEFI firmware (OVMF) found") == true)
    }
}
