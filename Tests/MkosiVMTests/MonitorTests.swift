import Foundation
import Testing
@testable import MkosiVM
@testable import MkosiConfig
import MkosiCore

/// Each monitor renders the same kind of `Machine`; vmspawn and nspawn plans.
struct MonitorTests {
    @Test func vmspawnRendersTheMachine() throws {
        let p = try PlanProject("Format=disk\n[Runtime]\nVirtualMachineMonitor=vmspawn\nRuntimeTrees=/srv/a:tree\nRuntimeSize=8G\nQemuArgs=-s\n")
        let m = try p.plan(credentials: [("firstboot.locale", Array("C.UTF-8".utf8))])
        #expect(m.monitor == .vmspawn && m.boot == .uefi(secureBoot: true) && m.firmwareFeatures == ["secure-boot"])
        #expect(m.keepUnit && m.userScope && !m.register)  // no systemd as PID 1 here
        var l = LaunchResources(temp: "/var/tmp/v", image: "/p/image.raw")
        l.variables = "/var/tmp/v/ovmf-vars"
        l.credentials = [("firstboot.locale", "/var/tmp/v/credentials/firstboot.locale")]
        l.scopeProcs = "/sys/fs/cgroup/x/cgroup.procs"
        let c = VmspawnMonitor.commandLine(for: m, launch: l)
        #expect(c.argv.starts(with: ["systemd-vmspawn", "--cpus", "2", "--ram", String(m.ram), "--kvm", "no", "--vsock", "auto",
                                     "--tpm", "yes", "--tpm-state=off", "--console", "native", "--register", "no", "--keep-unit", "--user",
                                     "--firmware-features", "secure-boot", "--grow-image", String(8 << 30), "--network-user-mode",
                                     "--efi-nvram-template", "/var/tmp/v/ovmf-vars",
                                     "--load-credential=firstboot.locale:/var/tmp/v/credentials/firstboot.locale",
                                     "--bind", "/srv/a:/root/src/tree", "--image", "/p/image.raw", "systemd.wants=network.target"]), "\(c.argv)")
        #expect(!c.argv.contains { $0.hasPrefix("console=") || $0.hasPrefix("systemd.tty.") })
        #expect(c.environment.contains { $0.0 == "SYSTEMD_VMSPAWN_QEMU_EXTRA" && $0.1 == "-s" })
        #expect(c.environment.contains { $0.0 == "XDG_RUNTIME_DIR" && $0.1 == "/var/tmp/v/runtime" })
        #expect(c.prefix == ["/bin/sh", "-c", "echo 0 > \"$0\" && exec \"$@\"", "/sys/fs/cgroup/x/cgroup.procs"])
        #expect(c.binds.contains { $0.source == "/srv/a" } && c.workingDirectory == "/var/tmp/v")

        #expect(m.warnings.isEmpty)
        let cxl = try PlanProject("Format=disk\n[Runtime]\nVirtualMachineMonitor=vmspawn\nCXL=yes\n")
        #expect(try cxl.plan().warnings == ["mkosi.conf:11: CXL= is ignored with VirtualMachineMonitor=vmspawn (systemd-vmspawn has no such option); VirtualMachineMonitor=qemu honours it"])
        let systemd = try p.plan(host: .kvmHost)
        #expect(systemd.kvm && systemd.register && !systemd.keepUnit && systemd.tpm)
        let cpio = try PlanProject("Format=cpio\n[Runtime]\nVirtualMachineMonitor=vmspawn\n")
        #expect(try cpio.refusal()?.description.hasPrefix("mkosi.conf:8: cpio images cannot be booted in systemd-vmspawn") == true)
        var noVmspawn = RuntimeHost.tcg
        noVmspawn.tools.vmspawn = false
        #expect(try p.refusal(host: noVmspawn)?.description.hasPrefix("mkosi.conf:10: VirtualMachineMonitor=vmspawn, but systemd-vmspawn is not installed") == true)
    }

    @Test func vmspawnFirmwareFollowsTheKernel() throws {
        let tree = try PlanProject("Format=directory\n[Runtime]\nVirtualMachineMonitor=vmspawn\n")
        let missing = try #require(try tree.refusal())
        #expect(missing.code == .notBuilt && missing.message.hasPrefix("Kernel or UKI not found at"))
        let d = try tree.plan { $0.vmlinuz = "/p/image.vmlinuz"; $0.initrd = "/p/image.initrd" }
        #expect(d.boot == .linux && d.kernel == "/p/image.vmlinuz" && d.initrds == ["/p/image.initrd"])
        let argv = VmspawnMonitor.commandLine(for: d, launch: LaunchResources(temp: "/t", image: "/p/image")).argv
        #expect(argv.has(["--linux", "/p/image.vmlinuz"]) && argv.has(["--directory", "/p/image"]))
        let uki = try PlanProject("Format=disk\n[Runtime]\nVirtualMachineMonitor=vmspawn\nLinux=/boot/uki.efi\n")
        #expect(try uki.plan { $0.linuxIsUKI = true }.boot == .uefi(secureBoot: true))
        #expect(try uki.plan { $0.linuxIsUKI = false }.boot == .linux)
        #expect(try uki.refusal()?.description.hasPrefix("mkosi.conf:11: Kernel not found at /boot/uki.efi") == true)
    }

    @Test func nspawnRendersTheMachine() throws {
        let p = try PlanProject("Format=directory\n[Runtime]\nRuntimeTrees=/srv/a:tree\nBindUser=yes\nKernelCommandLineExtra=systemd.hostname=c FOO=bar\n")
        let refused = try #require(try p.refusal(verb: .shell))
        #expect(refused.code == .hostUnsupported && refused.message == "'shell' needs root (systemd-nspawn)")
        var root = RuntimeHost.tcg
        root.isRoot = true
        root.runOnTmpfs = false
        let shell = try p.plan(["--machine=main"], verb: .shell, host: root, arguments: ["head", "-1", "/etc/os-release"],
                               credentials: [("firstboot.locale", Array("C.UTF-8".utf8))])
        #expect(shell.monitor == .nspawn && shell.boot == .shell && shell.keepUnit && !shell.register && shell.bindUser == "me")
        var l = LaunchResources(temp: "/var/tmp/n", image: "/p/image")
        l.credentials = [("firstboot.locale", "/var/tmp/n/credentials/firstboot.locale")]
        l.shareOwnedByUser = [true]
        l.coreLimit = "0:infinity"
        let c = NspawnMonitor.commandLine(for: shell, launch: l)
        #expect(c.onHost && c.prefix.starts(with: ["unshare", "--mount", "--propagation=private", "sh", "-c"]))
        #expect(c.argv == ["systemd-nspawn", "--quiet", "--directory=/p/image", "--machine=main", "--link-journal=no", "--suppress-sync=yes",
                           "--resolv-conf=auto", "--register=no", "--keep-unit",
                           "--load-credential=firstboot.locale:/var/tmp/n/credentials/firstboot.locale",
                           "--bind=/srv/a:/root/src/tree:norbind,rootidmap", "--bind-user=me",
                           "--rlimit=RLIMIT_CORE=0:infinity", "--console=autopipe", "--", "head", "-1", "/etc/os-release"], "\(c.argv)")

        root.runOnTmpfs = true
        root.systemScope = true
        let boot = try p.plan(verb: .boot, host: root)
        let b = NspawnMonitor.commandLine(for: boot, launch: LaunchResources(temp: "/t", image: "/p/image"))
        #expect(b.prefix.isEmpty && b.argv.has(["--register=yes"]))
        #expect(b.argv.has(["--boot", "--setenv", "SYSTEMD_SULOGIN_FORCE=1", "--setenv", "FOO=bar"]) && b.argv.suffix(2) == ["systemd.wants=network.target", "systemd.hostname=c"])

        let disk = try PlanProject("Format=disk\n")
        #expect(try disk.refusal(verb: .boot, host: root)?.message.hasSuffix("has no plain root partition to boot with systemd-nspawn") == true)
        let d = try disk.plan(verb: .boot, host: root) { $0.rootPartition = (1 << 20, 1 << 30) }
        var dl = LaunchResources(temp: "/t", image: "/p/image.raw")
        dl.mountpoint = "/t/root"
        let dc = NspawnMonitor.commandLine(for: d, launch: dl)
        #expect(dc.prefix.suffix(4) == [String(1 << 20), String(1 << 30), "/p/image.raw", "/t/root"] && dc.argv.contains("--directory=/t/root"))
        #expect(try PlanProject("Format=uki\n").refusal(verb: .shell, host: root)?.code == .unsupported)
    }
}
