import Foundation
import Testing
import TestSupport

/// Bootable disk images, built with a tools tree (one shared by all tests, built once), and
/// booted in qemu (TCG here) and systemd-nspawn. Part of the serialized `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// A shared default tools tree (Debian trixie): built on first use, then reused as long as
    /// its configuration is unchanged.
    static let toolsTree = sharedToolsTree(release: "trixie", in: "/var/tmp/mkosi-integration-tools")
    /// The same from Debian testing, for systemd-vmspawn (systemd 258 or newer; trixie has 257).
    static let testingToolsTree = sharedToolsTree(release: "testing", in: "/var/tmp/mkosi-integration-tools-testing")
    /// Debian testing's with `systemd-tpm`, for systemd-measure (258 or newer), which the
    /// default tools tree has not.
    static let tpmToolsTree = sharedToolsTree(release: "testing", in: "/var/tmp/mkosi-integration-tools-testing-tpm",
                                              packages: ["systemd-tpm"])

    static func sharedToolsTree(release: String, in dir: String, packages: [String] = []) -> String {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let conf = base + "[Output]\nFormat=none\n[Build]\nToolsTree=default\nToolsTreeRelease=\(release)\n"
            + "PackageCacheDirectory=\(packageCache)\n" + (packages.isEmpty ? "" : "ToolsTreePackages=\(packages.joined(separator: " "))\n")
        try? conf.write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        let r = try? Shell.run([Binary.locate(), "build"], cwd: dir)
        if r?.status != 0 { print("building the \(release) tools tree failed: \(r?.stderr.suffix(3000) ?? "")") }
        return dir + "/mkosi.tools"
    }

    var withTools: String { "[Build]\nToolsTree=\(Self.toolsTree)\n" }

    /// Runs `argv` until `marker` appears in its output (or `timeout` passes), then sends
    /// SIGTERM and waits. Returns whether the marker appeared and the output.
    func runUntil(_ argv: [String], cwd: String, marker: String, timeout: TimeInterval) throws -> (Bool, String) {
        let process = try Background(argv, cwd: cwd)
        _ = process.wait(for: marker, timeout: timeout)
        process.stop()
        let text = process.output
        return (text.contains(marker), text)
    }

    /// A scratch project holding a copy of examples/hello's sources (the README's main job) plus
    /// `files`. What a build of the example left in the checkout (`scripts/demo` builds it there:
    /// `hello.raw`, `mkosi.tools/`, caches, …) is not copied, so no test starts from another
    /// run's outputs.
    func exampleProject(_ files: [String: String] = [:]) throws -> Project {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let example = root.appendingPathComponent("examples/hello").path
        let p = try Project(files)
        let sources = try FileManager.default.contentsOfDirectory(atPath: example).filter { !Self.isExampleOutput($0) }
        let r = try Shell.run(["cp", "-a"] + sources.sorted().map { example + "/" + $0 } + [p.dir + "/"])
        #expect(r.status == 0, "copying the example failed: \(r.stderr)")
        return p
    }

    /// Whether `name`, in examples/hello, is something a build of it writes (the outputs
    /// `.gitignore` lists) rather than one of its sources.
    static func isExampleOutput(_ name: String) -> Bool {
        if name == "hello.c" { return false }
        return name == "hello" || name.hasPrefix("hello.") || name == "initrd" || name.hasPrefix("initrd.")
            || name.hasPrefix("mkosi.tools") || ["mkosi.output", "mkosi.cache", ".mkosi-private"].contains(name)
    }

    /// The example's sources are copied into scratch projects, what a build of it writes is not.
    @Test func exampleProjectsStartFromTheSourcesOnly() throws {
        for name in ["hello.c", "mkosi.conf", "mkosi.conf.d", "mkosi.extra", "mkosi.build.chroot", "mkosi.postinst.chroot"] {
            #expect(!Self.isExampleOutput(name), "\(name) is a source")
        }
        for name in ["hello", "hello.raw", "hello.efi", "hello.manifest", "initrd", "initrd.cpio.zst", "mkosi.tools",
                     "mkosi.tools.manifest", "mkosi.cache", "mkosi.output", ".mkosi-private"] {
            #expect(Self.isExampleOutput(name), "\(name) is an output")
        }
        let p = try exampleProject()
        for name in ["hello.c", "mkosi.conf", "mkosi.extra/etc/motd", "mkosi.conf.d/10-tools.conf", "mkosi.conf.d/00-test.conf"] {
            #expect(FileManager.default.fileExists(atPath: p.dir + "/" + name), "\(name) missing from the copy")
        }
    }

    /// The `mkosi vm` temporary directories in /var/tmp (full paths), qemu's or vmspawn's.
    static func vmTemporaryDirectories(_ prefix: String = "mkosi-vm-") -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/var/tmp")) ?? []).filter { $0.hasPrefix(prefix) }
            .map { "/var/tmp/" + $0 })
    }

    /// GPT partitions of `image`: type GUID, byte offset and size.
    static func partitionExtents(_ image: String) throws -> [(type: String, offset: UInt64, size: UInt64)] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        func read(_ offset: UInt64, _ count: Int) throws -> [UInt8] {
            try handle.seek(toOffset: offset)
            return [UInt8](try handle.read(upToCount: count) ?? Data())
        }
        func le(_ b: [UInt8], _ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) } }
        let header = try read(512, 92)
        guard String(decoding: header[0..<8], as: UTF8.self) == "EFI PART" else { return [] }
        let lba = le(header, 72, 8), count = Int(le(header, 80, 4)), size = Int(le(header, 84, 4))
        let entries = try read(lba * 512, count * size)
        var result: [(String, UInt64, UInt64)] = []
        for i in 0..<count {
            let e = Array(entries[(i * size)..<(i * size + size)])
            if e[0..<16].allSatisfy({ $0 == 0 }) { continue }
            let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
            let type = hex([e[3], e[2], e[1], e[0]]) + "-" + hex([e[5], e[4]]) + "-" + hex([e[7], e[6]]) + "-"
                + hex(Array(e[8..<10])) + "-" + hex(Array(e[10..<16]))
            let first = le(e, 32, 8), last = le(e, 40, 8)
            result.append((type, first * 512, (last - first + 1) * 512))
        }
        return result
    }

    /// GPT partition type GUIDs of a disk image, and whether each partition starts with a LUKS header.
    static func partitions(_ image: String) throws -> [(type: String, luks: Bool)] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        return try partitionExtents(image).map { p in
            try handle.seek(toOffset: p.offset)
            return (p.type, [UInt8](try handle.read(upToCount: 6) ?? Data()) == [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe])
        }
    }

    static let espType = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
    static let rootType = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
    static let rootVerityType = "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"

    /// The example project (the README's main job): a bootable trixie disk whose build script
    /// compiles a program with gcc from BuildPackages=; systemd-boot borrowed from the
    /// systemd-boot-efi package, a UKI with the default initrd. Checked: its partition table,
    /// its contents through `mkosi shell` (systemd-nspawn on the disk), a boot in qemu to the
    /// login prompt with a hostname passed by KernelCommandLineExtra= at run time (as a regular
    /// user with a subordinate range, with a runtime tree), `mkosi boot`, and a boot with
    /// `VirtualMachineMonitor=vmspawn` (a testing tools tree); nothing outlives mkosi.
    @Test func exampleBuildsABootableDiskThatBoots() throws {
        let p = try exampleProject()
        // The shared tools tree instead of one per project.
        let tools = "--tools-tree=\(Self.toolsTree)"
        let r = try Shell.run([mkosi, tools, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let types = try Self.partitions(p.dir + "/hello.raw").map(\.type)
        #expect(types == [Self.espType, Self.rootType], "partitions: \(types)")
        for artifact in ["hello.efi", "hello.vmlinuz", "hello.initrd", "initrd.cpio.zst"] {
            #expect(FileManager.default.fileExists(atPath: p.dir + "/" + artifact), "\(artifact) missing")
        }
        #expect(p.leftovers().isEmpty)

        let check = "hello; test ! -e /usr/bin/gcc && echo no-gcc; cat /etc/motd /etc/hostname; test -s /etc/hello-build-date "
            + "&& echo build-date; grep -q '^root:\\$6\\$' /etc/shadow && echo root-password; ls /usr/lib/modules"
        let shell = try Shell.run([mkosi, tools, "shell", "--", "sh", "-c", check], cwd: p.dir)
        #expect(shell.status == 0, "\(shell.stderr.suffix(2000))")
        for expected in ["Hello from an image built by mkosi (Swift)!", "no-gcc", "Welcome to the hello image.", "hello\n",
                         "build-date", "root-password"] {
            #expect(shell.stdout.contains(expected), "\(expected) missing from: \(shell.stdout)")
        }

        // Processes that were there before (e.g. a VM someone else runs) are not ours to judge.
        let qemuBefore = try Self.pids("qemu-system"), virtiofsdBefore = try Self.pids("virtiofsd")
        let tempsBefore = Self.vmTemporaryDirectories()
        // A runtime tree shared through virtiofsd: the guest mounts it from the fstab.extra credential.
        var (booted, text) = (false, "")
        try withSubordinateUser { uid, gid in
            #expect(try Shell.run(["chown", "-R", "\(uid):\(gid)", p.dir]).status == 0)
            (booted, text) = try runUntil(["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "env", "HOME=\(p.dir)",
                                           mkosi, tools, "--kernel-command-line-extra=systemd.hostname=mkosivmtest",
                                           "--runtime-tree=\(p.dir)/mkosi.extra:/root/src", "vm"],
                                          cwd: p.dir, marker: "mkosivmtest login:", timeout: 400)
        }
        #expect(booted, "no login prompt from the VM: \(text.suffix(3000))")
        #expect(text.contains("Mounted sysroot-root-src.mount"), "the runtime tree was not mounted: \(text.suffix(3000))")
        #expect(try Self.pids("virtiofsd").subtracting(virtiofsdBefore).isEmpty, "virtiofsd outlived mkosi vm")
        #expect(try Self.pids("qemu-system").subtracting(qemuBefore).isEmpty, "qemu outlived mkosi vm")
        let left = Self.vmTemporaryDirectories().subtracting(tempsBefore)
        let listing = left.map { (try? Shell.run(["ls", "-laR", $0]).stdout) ?? $0 }.joined(separator: "\n")
        #expect(left.isEmpty, "vm left temporary files: \(listing)\n\(text.suffix(1000))")

        let (nspawned, boot) = try runUntil([mkosi, tools, "--machine=mkosi-disk-test", "boot"], cwd: p.dir, marker: "login:",
                                            timeout: 120)
        #expect(nspawned, "no login prompt from nspawn: \(boot.suffix(3000))")
        #expect(try Shell.run(["pgrep", "-f", "systemd-nspawn.*mkosi-disk-test"]).status == 1, "nspawn outlived mkosi boot")
        #expect(!((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains(p.dir))

        // The same disk under systemd-vmspawn, from a Debian testing tools tree, with a runtime
        // tree (vmspawn's virtiofsd and fstab.extra). PID 1 is not systemd here, so vmspawn runs
        // with --keep-unit in a scope-named cgroup mkosi makes and removes.
        let spawnTempsBefore = Self.vmTemporaryDirectories("mkosi-vmspawn-")
        let helpers = { try Self.pids("systemd-vmspawn").union(Self.pids("qemu-system")).union(Self.pids("virtiofsd")) }
        let helpersBefore = try helpers()
        let (spawned, console) = try runUntil([mkosi, "--tools-tree=\(Self.testingToolsTree)", "--vmm=vmspawn",
                                               "--kernel-command-line-extra=systemd.hostname=mkosivmspawn",
                                               "--runtime-tree=\(p.dir)/mkosi.extra:/root/src", "vm"],
                                              cwd: p.dir, marker: "mkosivmspawn login:", timeout: 300)
        #expect(spawned, "no login prompt from systemd-vmspawn: \(console.suffix(3000))")
        // vmspawn gives the guest a terminal, so its console is coloured.
        let plain = console.replacingOccurrences(of: "\u{1b}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression)
        #expect(plain.contains("Mounted sysroot-root-src.mount"), "the runtime tree was not mounted: \(plain.suffix(3000))")
        let outlived = try helpers().subtracting(helpersBefore)
        let survivors = outlived.isEmpty ? "" : (try Shell.run(["ps", "-o", "pid,args", "-p", outlived.joined(separator: ",")]).stdout)
        #expect(outlived.isEmpty, "outlived mkosi vm: \(survivors)")
        #expect(Self.vmTemporaryDirectories("mkosi-vmspawn-").subtracting(spawnTempsBefore).isEmpty, "vmspawn left temporary files")
        let cgroups = try Shell.run(["find", "/sys/fs/cgroup", "-name", "mkosi-vmspawn-*"]).stdout
        #expect(cgroups.isEmpty, "vmspawn's cgroup was left behind: \(cgroups)")
    }

    /// mkosi.repart/ definitions: a verity-protected root, and a root encrypted with Passphrase=.
    @Test func verityAndEncryptedRootImagesBuild() throws {
        let verity = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=disk\n[Content]\nBootable=no\n" + withTools,
            "mkosi.repart/10-root.conf": "[Partition]\nType=root\nFormat=ext4\nCopyFiles=/\nVerity=data\nVerityMatchKey=root\nMinimize=guess\n",
            "mkosi.repart/11-root-verity.conf": "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\nMinimize=best\n",
        ])
        let v = try Shell.run([mkosi, "build"], cwd: verity.dir)
        #expect(v.status == 0, "\(v.stderr.suffix(3000))")
        #expect(try Self.partitions(verity.dir + "/image.raw").map(\.type) == [Self.rootType, Self.rootVerityType])

        let encrypted = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=disk\n[Content]\nBootable=no\n[Validation]\nPassphrase=passphrase\n" + withTools,
            "passphrase": "correct horse battery staple",
            "mkosi.repart/10-root.conf": "[Partition]\nType=root\nFormat=ext4\nCopyFiles=/\nEncrypt=key-file\nMinimize=guess\n",
        ])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: encrypted.dir + "/passphrase")
        let e = try Shell.run([mkosi, "build"], cwd: encrypted.dir)
        #expect(e.status == 0, "\(e.stderr.suffix(3000))")
        let parts = try Self.partitions(encrypted.dir + "/image.raw")
        #expect(parts.map(\.type) == [Self.rootType] && parts.first?.luks == true, "\(parts)")
    }

    /// Errors of bootable images: a definition repart rejects, a too small OutputSize=,
    /// Bootable=yes without a kernel, no UEFI firmware for `vm`, and systemd-repart too old
    /// without a tools tree.
    @Test func bootErrorsAreClear() throws {
        let bad = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=disk\n[Content]\nBootable=no\n" + withTools,
            "mkosi.repart/10-root.conf": "[Partition]\nType=no-such-type\nCopyFiles=/\n",
        ])
        let r = try Shell.run([mkosi, "build"], cwd: bad.dir)
        #expect(r.status != 0)
        #expect(r.stderr.contains("systemd-repart") && r.stderr.contains("failed with exit status"), "\(r.stderr.suffix(1500))")
        #expect(r.stderr.contains("10-root.conf") || r.stderr.contains("mkosi.repart"), "\(r.stderr.suffix(1500))")
        #expect(bad.leftovers().isEmpty && !FileManager.default.fileExists(atPath: bad.dir + "/image.raw"))

        // OutputSize= below the image's size leaves it as it is (as upstream), above it grows it;
        // with RepartOffline=no systemd-repart works through loop devices.
        let tooSmall = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=disk\nOutputSize=50M\n[Content]\nBootable=no\n"
                                    + "[Build]\nRepartOffline=no\n" + withTools])
        let t = try Shell.run([mkosi, "build"], cwd: tooSmall.dir)
        #expect(t.status == 0 && t.stderr.contains("the image is already larger"), "\(t.stderr.suffix(1500))")
        #expect(tooSmall.leftovers().isEmpty)
        let grown = try Shell.run([mkosi, "-f", "--output-size=3G", "build"], cwd: tooSmall.dir)
        #expect(grown.status == 0, "\(grown.stderr.suffix(1500))")
        let size = (try FileManager.default.attributesOfItem(atPath: tooSmall.dir + "/image.raw")[.size] as? Int) ?? 0
        #expect(size == 3 << 30)

        let noKernel = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=disk\n[Content]\nBootable=yes\n" + withTools])
        let k = try Shell.run([mkosi, "build"], cwd: noKernel.dir)
        #expect(k.status == 1 && k.stderr.contains("Bootable=yes, but the image has no kernel"), "\(k.stderr.suffix(1500))")

        // The host has no OVMF and no tools tree is configured.
        let noFirmware = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=disk\n", "image.raw": "not really a disk\n"])
        let f = try Shell.run([mkosi, "vm"], cwd: noFirmware.dir)
        #expect(f.status == 1 && f.stderr.contains("No UEFI firmware (OVMF) found"), "\(f.stderr.suffix(1500))")

        // Debian 12's systemd (252) is too old for offline repart; a newer host skips this part.
        let version = try Shell.run(["systemd-repart", "--version"]).stdout.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        guard version < 254 else { return }
        let host = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=disk\n"])
        let h = try Shell.run([mkosi, "build"], cwd: host.dir)
        #expect(h.status == 1 && h.stderr.contains("mkosi.conf:5: Format= needs systemd-repart from systemd 254 or newer") && h.stderr.contains("ToolsTree=default"),
                "\(h.stderr.suffix(1500))")
    }
}

extension BuildIntegrationTests {
    /// Format=uki (the whole image as the UKI's initrd) and Format=esp (an ESP-only disk with
    /// systemd-boot and that UKI, with Secure Boot auto-enrolment keys written by efitools, then
    /// with Debian's signed shim and grub chainloading the UKI); the ESP builds start from the
    /// first one's cached packages.
    @Test func ukiAndESPFormats() throws {
        let p = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=uki\n[Content]\nPackages=systemd linux-image-amd64\n"
                                + "  grub-efi-amd64-signed\n  shim-signed\n"
                                + "[Build]\nIncremental=yes\nCacheDirectory=cache\nToolsTree=\(Self.toolsTree)\n"])
        try FileManager.default.createDirectory(atPath: p.dir + "/cache", withIntermediateDirectories: true)
        let uki = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(uki.status == 0, "\(uki.stderr.suffix(3000))")
        let efi = try FileHandle(forReadingFrom: URL(fileURLWithPath: p.dir + "/image.efi"))
        let magic = try efi.read(upToCount: 2)
        try efi.close()
        #expect(magic == Data("MZ".utf8), "image.efi is not a PE file")

        #expect(try Shell.run([mkosi, "genkey"], cwd: p.dir).status == 0)
        let esp = try Shell.run([mkosi, "-f", "-t", "esp", "--secure-boot=yes", "build"], cwd: p.dir)
        #expect(esp.status == 0, "\(esp.stderr.suffix(3000))")
        #expect(esp.stderr.contains("Reusing the cached image"))
        #expect(try Self.partitions(p.dir + "/image.raw").map(\.type) == [Self.espType])
        // sbvarsign's updates are EFI_VARIABLE_AUTHENTICATION_2: a time stamp, then a WIN_CERTIFICATE
        // of type EFI_CERT_TYPE_PKCS7_GUID (0x0EF1).
        let keys = "for f in PK KEK db; do mcopy -n -i \"$0@@$1\" ::/loader/keys/auto/$f.auth /tmp/$f.auth "
            + "&& echo \"$f $(od -A n -t x1 -j 22 -N 2 /tmp/$f.auth | tr -d ' ')\"; done; mdir -/ -b -i \"$0@@$1\" ::"
        let espStart = try Self.partitionExtents(p.dir + "/image.raw").first?.offset ?? 0
        let k = try Shell.run([mkosi, "box", "--", "sh", "-c", keys, p.dir + "/image.raw", String(espStart)], cwd: p.dir)
        #expect(k.stdout.contains("PK f10e\nKEK f10e\ndb f10e\n"), "no auto-enrolment keys: \(k.stdout) \(k.stderr.suffix(500))")
        #expect(k.stdout.contains("::/EFI/systemd/systemd-bootx64.efi"), "\(k.stdout)")

        let grub = try Shell.run([mkosi, "-f", "-t", "esp", "--bootloader=grub-signed", "--shim-bootloader=signed", "build"], cwd: p.dir)
        #expect(grub.status == 0, "\(grub.stderr.suffix(3000))")
        #expect(grub.stderr.contains("Installing the signed grub EFI binary /usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed as /EFI/BOOT/grubx64.EFI"),
                "\(grub.stderr.suffix(2000))")
        #expect(grub.stderr.contains("Installing the signed shim EFI binary /usr/lib/shim/shimx64.efi.signed as /EFI/BOOT/BOOTX64.EFI"))
        let list = "mdir -/ -b -i \"$0@@$1\" ::; mtype -i \"$0@@$1\" ::/grub/grub.cfg ::/EFI/debian/grub.cfg"
        let l = try Shell.run([mkosi, "box", "--", "sh", "-c", list, p.dir + "/image.raw", String(espStart)], cwd: p.dir)
        for expected in ["::/EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/mmx64.efi", "::/EFI/BOOT/grubx64.EFI", "::/EFI/Linux/debian-",
                         "chainloader /EFI/Linux/debian-", "configfile /grub/grub.cfg"] {
            #expect(l.stdout.contains(expected), "\(expected) missing: \(l.stdout) \(l.stderr.suffix(500))")
        }
        #expect(!l.stdout.contains("::/EFI/systemd/"), "systemd-boot on a grub ESP: \(l.stdout)")
        #expect(p.leftovers().isEmpty)
    }
}

extension BuildIntegrationTests {
    /// Format=uki assembles the UKI as upstream: the image's microcode as the `.ucode` section
    /// (here a made-up Intel file from mkosi.extra), `Devicetrees=` as `.dtb`, a UKI profile
    /// joined, and `SplitArtifacts=kernel,initrd` taken out of the UKI.
    @Test func ukiFormatCarriesMicrocodeDevicetreeAndProfiles() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=uki\nSplitArtifacts=kernel,initrd\n"
                + "[Content]\nPackages=systemd linux-image-amd64\nDevicetrees=test.dtb\n" + withTools,
            "mkosi.extra/usr/lib/firmware/intel-ucode/06-55-07": "not really microcode\n",
            "mkosi.uki-profiles/debug.conf": "[UKIProfile]\nProfile=ID=debug\n        TITLE=Debug\nCmdline=debug\n",
            "mkosi.postinst.chroot": "#!/bin/sh\nfor d in /usr/lib/modules/*/; do mkdir -p \"$d/dtb\"; echo fdt > \"$d/dtb/test.dtb\"; done\n",
        ], executable: ["mkosi.postinst.chroot"])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        // The section table is in the first page of the PE file.
        let head = try #require(FileHandle(forReadingAtPath: p.dir + "/image.efi")?.readData(ofLength: 4096))
        for section in [".ucode", ".dtb", ".profile", ".linux", ".initrd"] {
            // Section names are 8 bytes, NUL-padded.
            let name = Data(section.utf8) + Data(count: 8 - section.utf8.count)
            #expect(head.range(of: name) != nil, "image.efi has no \(section) section")
        }
        // The image's initrd is compressed: the only plain cpio is the microcode one.
        let uki = try Data(contentsOf: URL(fileURLWithPath: p.dir + "/image.efi"))
        #expect(uki.range(of: Data("kernel/x86/microcode/GenuineIntel.bin".utf8)) != nil, "no Intel microcode in image.efi")
        let kernel = try #require(FileHandle(forReadingAtPath: p.dir + "/image.vmlinuz")?.readData(ofLength: 2))
        #expect(kernel == Data("MZ".utf8), "image.vmlinuz is not the kernel")
        let initrd = (try? FileManager.default.attributesOfItem(atPath: p.dir + "/image.initrd")[.size] as? Int) ?? 0
        #expect(initrd > 1 << 20, "image.initrd is missing or too small")
        #expect(p.leftovers().isEmpty)
    }
}

extension BuildIntegrationTests {
    /// UnifiedKernelImages=auto without a UKI stub (removed from the image's systemd-boot-efi)
    /// falls back to a Type #1 entry, as upstream; it lists the microcode initrd first, then the
    /// initrd a script left in $ARTIFACTDIR/io.mkosi.initrd.
    @Test func withoutAStubKernelsGetType1EntriesWithArtifactInitrds() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nBootable=yes\nInitrds=\nKernelModulesInitrd=no\n"
                + "Packages=systemd linux-image-amd64 systemd-boot-efi\n" + withTools,
            "mkosi.extra/usr/lib/firmware/amd-ucode/microcode_amd.bin": "not really microcode\n",
            "mkosi.postinst": "#!/bin/sh\nset -e\nrm \"$BUILDROOT\"/usr/lib/systemd/boot/efi/linux*.efi.stub\n"
                + "mkdir -p \"$ARTIFACTDIR/io.mkosi.initrd\"\necho extra > \"$ARTIFACTDIR/io.mkosi.initrd/extra.cpio\"\n",
        ], executable: ["mkosi.postinst"])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let entries = p.dir + "/image/boot/loader/entries"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: entries)) ?? []
        #expect(names.count == 1, "expected one Type #1 entry, found \(names)")
        let entry = try names.first.map { try String(contentsOfFile: entries + "/" + $0, encoding: .utf8) } ?? ""
        let initrds = entry.split(separator: "\n").filter { $0.hasPrefix("initrd ") }.map { String($0.split(separator: "/").last ?? "") }
        #expect(initrds == ["microcode.initrd", "extra.cpio"], "\(entry)")
        let microcode = (try? String(contentsOfFile: p.dir + "/image/boot/debian/microcode.initrd", encoding: .isoLatin1)) ?? ""
        #expect(microcode.contains("kernel/x86/microcode/AuthenticAMD.bin") && !microcode.contains("GenuineIntel"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: p.dir + "/image/boot/EFI/Linux")) ?? []).isEmpty)
        #expect(p.leftovers().isEmpty)
    }
}

extension BuildIntegrationTests {
    /// SplitArtifacts=pcrs: ukify prints the TPM2 policy digests of the UKI for
    /// SignExpectedPcrCertificate= (a certificate alone: nothing is signed), written to
    /// `OUTPUT.pcrs` as upstream; it needs systemd-measure 258, from Debian testing's systemd-tpm.
    @Test func pcrsSplitArtifactHoldsThePolicyDigests() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=uki\nSplitArtifacts=uki,pcrs\n[Content]\nPackages=systemd linux-image-amd64\n"
                + "[Validation]\nSignExpectedPcrCertificate=pcr.crt\n[Build]\nToolsTree=\(Self.tpmToolsTree)\n",
        ])
        let openssl = try Shell.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null",
                                     "-out", p.dir + "/pcr.crt", "-subj", "/CN=mkosi pcrs test", "-days", "2"], cwd: p.dir)
        #expect(openssl.status == 0, "\(openssl.stderr)")
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let data = try #require(FileManager.default.contents(atPath: p.dir + "/image.pcrs"), "no image.pcrs: \(r.stderr.suffix(2000))")
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(json?["sha256"] != nil, "\(String(decoding: data, as: UTF8.self))")
        #expect(data.last == UInt8(ascii: "}"), "image.pcrs holds more than the JSON")
        // The certificate is used for Format=uki: no "has no effect" warning about it.
        #expect(!r.stderr.contains("SignExpectedPcrCertificate="), "\(r.stderr.suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: p.dir + "/image.efi"))
        #expect(p.leftovers().isEmpty)
    }
}
