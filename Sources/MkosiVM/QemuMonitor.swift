import MkosiConfig

/// qemu's command line for a machine, in upstream's order: the only place that knows qemu's
/// options. The machine's temporary directory is `/work/vm` in the sandbox.
public enum QemuMonitor: MachineMonitor {
    public static func commandLine(for m: Machine, launch: LaunchResources) -> MonitorCommand {
        var c = MonitorCommand()
        c.bind(launch.temp, "/work/vm")
        c.argv = (m.ptyForward ?? []) + [m.qemuBinary] + base(m)
        c.argv += nicArguments(m.network, forward: launch.sshPort.map { ($0, Machine.sshGuestPort) })
        if m.kvm {
            c.bind("/dev/kvm", "/dev/kvm")
            c.argv += ["-cpu", "host", "-accel", "kvm"]
        } else {
            c.argv += ["-cpu", "max", "-accel", "tcg"]
        }
        if let cid = launch.cid {
            c.bind("/dev/vhost-vsock", "/dev/vhost-vsock")
            c.argv += ["-device", "vhost-vsock-pci,guest-cid=\(cid)"]
        }
        c.argv += consoleArguments(m.console, arm: m.arm)
        if let firmware = m.firmware { c.argv += firmwareArguments(firmware, secureBoot: m.secureBoot, arm: m.arm) }
        disks(m, launch, into: &c)
        c.argv += shareArguments(m, launch)
        if let socket = launch.tpmSocket { c.argv += tpmArguments(socket: socket, arm: m.arm) }
        for n in launch.credentials.indices { c.argv += ["-smbios", "type=11,path=/work/vm/credential-\(n)"] }
        kernel(m, launch, into: &c)
        for (n, drives) in m.drives.enumerated() where n < launch.driveFiles.count {
            let inside = "/work/drive-\(drives[0].fileId)"
            c.bind(launch.driveFiles[n], inside)
            for drive in drives { c.argv += driveArguments(drive, path: inside) }
        }
        c.argv += m.qemuArguments
        return c
    }

    /// The machine, CPUs, memory and the devices every machine has.
    static func base(_ m: Machine) -> [String] {
        let sharedMemory = m.rootShare || !m.shares.isEmpty
        var argv = ["-machine", machineArgument(arm: m.arm, uefi: m.uefi, secureBoot: m.secureBoot, sharedMemory: sharedMemory, cxl: m.cxl),
                    "-smp", String(m.cpus), "-m", memoryArgument(ram: m.ram, maxMem: m.maxMem),
                    "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0,id=rng-device0",
                    "-device", "virtio-balloon,free-page-reporting=on", "-no-user-config"]
        if sharedMemory { argv += ["-object", "memory-backend-memfd,id=mem,size=\(m.ram >> 20)M,share=on"] }
        return argv
    }

    /// `Console=`: gui gets a display (SDL with GL) and sound; the others none, and all but
    /// headless the virtio console multiplexed with qemu's monitor on standard input and output.
    public static func consoleArguments(_ console: ConsoleMode, arm: Bool) -> [String] {
        if console == .gui {
            return ["-device", arm ? "virtio-gpu-pci" : "virtio-vga", "-nodefaults", "-display", "sdl,gl=on",
                    "-audio", "driver=pipewire,model=virtio"]
        }
        var argv = ["-nographic", "-nodefaults"]
        if console != .headless {
            argv += ["-chardev", "stdio,mux=on,id=console,signal=off", "-device", "virtio-serial-pci,id=mkosi-virtio-serial-pci",
                     "-device", "virtconsole,chardev=console", "-mon", "console"]
        }
        return argv
    }

    static func firmwareArguments(_ firmware: FirmwareDescriptor, secureBoot: Bool, arm: Bool) -> [String] {
        var argv = ["-drive", "if=pflash,format=\(firmware.codeFormat),readonly=on,file=\(firmware.code)",
                    "-drive", "file=/work/vm/ovmf-vars,if=pflash,format=\(firmware.variablesFormat)"]
        if secureBoot && !arm {
            argv += ["-global", "ICH9-LPC.disable_s3=1", "-global", "driver=cfi.pflash01,property=secure,value=on"]
        }
        return argv
    }

    /// A UKI handed to the firmware as the kernel, or the disk (or ESP) image.
    static func disks(_ m: Machine, _ launch: LaunchResources, into c: inout MonitorCommand) {
        if m.format == .uki && m.uefi {
            // OVMF starts the UKI handed over as the kernel like any EFI program.
            c.bind(launch.image, "/work/uki.efi", readOnly: true)
            c.argv += ["-kernel", "/work/uki.efi"]
        }
        if m.format == .disk || m.format == .esp {
            c.bind(launch.image, "/work/image")
            c.argv += rootDiskArguments(diskType: m.diskType, removable: m.removable, size: launch.imageSize,
                                        pageSize: UInt64(m.pageSize), ephemeral: m.ephemeral)
        }
    }

    /// A directory image's root, then the shares, each through its virtiofsd.
    static func shareArguments(_ m: Machine, _ launch: LaunchResources) -> [String] {
        var argv: [String] = []
        if let socket = launch.rootSocket {
            argv += ["-chardev", "socket,id=sock-root,path=\(socket)",
                     "-device", "vhost-user-fs-pci,queue-size=1024,chardev=sock-root,tag=root"]
        }
        for (n, (share, socket)) in zip(m.shares, launch.shareSockets).enumerated() {
            argv += ["-chardev", "socket,id=sock-\(n),path=\(socket)",
                     "-device", "vhost-user-fs-pci,queue-size=1024,chardev=sock-\(n),tag=\(share.target)"]
        }
        return argv
    }

    /// The kernel command line: with a direct kernel boot `-kernel`, `-initrd` and `-append`;
    /// under UEFI through SMBIOS for systemd-stub and systemd-boot.
    static func kernel(_ m: Machine, _ launch: LaunchResources, into c: inout MonitorCommand) {
        guard !m.uefi, let kernel = m.kernel else {
            let value = escapeOption(m.kernelArguments.joined(separator: " "))
            c.argv += ["-smbios", "type=11,value=io.systemd.stub.kernel-cmdline-extra=\(value)",
                       "-smbios", "type=11,value=io.systemd.boot.kernel-cmdline-extra=\(value)"]
            return
        }
        c.bind(kernel, "/work/vmlinuz", readOnly: true)
        c.argv += ["-kernel", "/work/vmlinuz"]
        if let initrd = launch.initrd {
            c.bind(initrd, "/work/initrd", readOnly: true)
            c.argv += ["-initrd", "/work/initrd"]
        }
        c.argv += ["-append", m.kernelArguments.joined(separator: " ")]
    }

    /// qemu's option syntax doubles commas inside values.
    public static func escapeOption(_ value: String) -> String { value.replacingOccurrences(of: ",", with: ",,") }

    /// qemu's arguments for a TPM on the machine's usual bus.
    static func tpmArguments(socket: String, arm: Bool) -> [String] {
        ["-chardev", "socket,id=chrtpm,path=\(socket)", "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
         "-device", arm ? "tpm-tis-device,tpmdev=tpm0" : "tpm-tis,tpmdev=tpm0"]
    }
}
