import Foundation
import Testing
import TestSupport

/// Extension images, keys and signing, for real: the seed's sysext example after `mkosi
/// genkey`, with a confext, a portable image, an OCI image and a UKI addon beside it, and a
/// Secure Boot disk that merges the system extension at boot. Part of the serialized
/// `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// Runs `body` with the first partition of `image` (an erofs root here) mounted read-only.
    static func withRootPartition(_ image: String, _ body: (String) throws -> Void) throws {
        guard let root = try partitionExtents(image).first else { Issue.record("\(image) has no partitions"); return }
        let mountpoint = "/var/tmp/mkosi-integration-mnt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mountpoint) }
        let m = try Shell.run(["mount", "-o", "loop,ro,offset=\(root.offset),sizelimit=\(root.size)", image, mountpoint])
        guard m.status == 0 else { Issue.record("cannot mount \(image): \(m.stderr)"); return }
        defer { _ = try? Shell.run(["umount", mountpoint]) }
        try body(mountpoint)
    }

    /// Whether the verity signature partition of `image` holds a PKCS#7 signature of its root
    /// hash that `certificate` verifies.
    static func veritySignatureVerifies(_ image: String, certificate: String) throws -> Bool {
        let signatureType = "41092b05-9fc8-4523-994f-2def0408b176"  // root-x86-64-verity-sig
        guard let p = try partitionExtents(image).first(where: { $0.type == signatureType }) else { return false }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        try handle.seek(toOffset: p.offset)
        let data = (try handle.read(upToCount: Int(p.size)) ?? Data()).prefix { $0 != 0 }
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let hash = json["rootHash"] as? String, let signature = (json["signature"] as? String).flatMap({ Data(base64Encoded: $0) })
        else { return false }
        let dir = NSTemporaryDirectory() + "mkosi-verity-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try hash.write(toFile: dir + "/roothash", atomically: true, encoding: .utf8)
        try signature.write(to: URL(fileURLWithPath: dir + "/signature"))
        return try Shell.run(["openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in", dir + "/signature",
                              "-content", dir + "/roothash", "-CAfile", certificate, "-purpose", "any", "-out", "/dev/null"]).status == 0
    }

    /// The files of the seed's second example (base, and a btrfs-progs sysext over it), exactly
    /// as in the post, and beside them a confext with an /etc file, a portable image, an OCI image
    /// and a UKI addon.
    static let extensionProject: [String: String] = [
        "mkosi.conf": "[Distribution]\nDistribution=debian\nRelease=trixie\n\n[Output]\nOutputDirectory=mkosi.output\n",
        "mkosi.images/base/mkosi.conf": "[Output]\nFormat=directory\n\n[Content]\nCleanPackageMetadata=no\nPackages=systemd\n         udev\n",
        "mkosi.images/btrfs/mkosi.conf": "[Config]\nDependencies=base\n\n[Output]\nFormat=sysext\nOverlay=yes\n\n[Content]\n"
            + "BaseTrees=%O/base\nPackages=btrfs-progs\n",
        "mkosi.images/conf/mkosi.conf": "[Config]\nDependencies=base\n[Output]\nFormat=confext\nOverlay=yes\n[Content]\nBaseTrees=%O/base\n",
        "mkosi.images/conf/mkosi.extra/etc/mkosi-test/confext.conf": "from the confext\n",
        "mkosi.images/port/mkosi.conf": "[Config]\nDependencies=base\n[Output]\nFormat=portable\n[Content]\nBaseTrees=%O/base\n"
            + "CleanPackageMetadata=yes\n",
        "mkosi.images/oci/mkosi.conf": "[Config]\nDependencies=base\n[Output]\nFormat=oci\nImageId=ocitest\nOciLabels=org.example.label=yes\n"
            + "OciAnnotations=org.example.annotation=1\n[Content]\nBaseTrees=%O/base\n",
        "mkosi.images/addon/mkosi.conf": "[Config]\nDependencies=base\n[Output]\nFormat=addon\nOverlay=yes\n[Content]\n"
            + "BaseTrees=%O/base\nKernelCommandLine=mkosi.addon=test\n",
    ]

    /// `mkosi genkey`, then the seed's sysext example with a confext, a portable image, an OCI
    /// image and an addon: the extensions hold only what they add, carry verity and a signature
    /// that verifies against mkosi.crt (and not against another certificate), and their
    /// extension-release files; the portable image has its mount points; skopeo reads the OCI
    /// layout and ukify the addon. Then the errors: Verity=signed without a key, a key others
    /// can read, Overlay= without BaseTrees=.
    @Test func seedSysextExampleAndOtherExtensionFormats() throws {
        let p = try Project(Self.extensionProject)
        let tools = "--tools-tree=\(Self.toolsTree)"
        let g = try Shell.run([mkosi, "genkey"], cwd: p.dir)
        #expect(g.status == 0, "\(g.stderr.suffix(1500))")
        let keyMode = (try FileManager.default.attributesOfItem(atPath: p.dir + "/mkosi.key")[.posixPermissions] as? Int) ?? 0
        #expect(keyMode == 0o600, "mkosi.key has mode \(String(keyMode, radix: 8))")
        let again = try Shell.run([mkosi, "genkey"], cwd: p.dir)
        #expect(again.status != 0 && again.stderr.contains("already exists"), "\(again.stderr)")

        let r = try Shell.run([mkosi, tools, "-f"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let out = p.dir + "/mkosi.output"
        #expect(FileManager.default.fileExists(atPath: out + "/base/usr/lib/os-release"))
        for image in ["btrfs", "conf", "port"] {
            #expect(try Self.veritySignatureVerifies(out + "/\(image).raw", certificate: p.dir + "/mkosi.crt"), "\(image): signature")
            let dissect = try Shell.run(["systemd-dissect", "--no-pager", out + "/\(image).raw"])
            #expect(dissect.stdout.contains("root-verity-sig") && dissect.stdout.contains("signed"), "\(image): \(dissect.stdout)")
        }
        // A signature made by another key does not verify.
        let other = p.dir + "/other"
        _ = try Shell.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", other + ".key", "-out", other + ".crt",
                           "-subj", "/CN=other/", "-days", "1"])
        #expect(try !Self.veritySignatureVerifies(out + "/btrfs.raw", certificate: other + ".crt"))

        let fm = FileManager.default
        try Self.withRootPartition(out + "/btrfs.raw") { root in
            #expect(fm.isExecutableFile(atPath: root + "/usr/sbin/mkfs.btrfs") || fm.isExecutableFile(atPath: root + "/usr/bin/mkfs.btrfs"))
            for baseFile in ["/usr/bin/bash", "/usr/lib/systemd/systemd", "/usr/lib/os-release", "/etc"] {
                #expect(!fm.fileExists(atPath: root + baseFile), "the sysext has the base's \(baseFile)")
            }
            let release = (try? String(contentsOfFile: root + "/usr/lib/extension-release.d/extension-release.btrfs", encoding: .utf8)) ?? ""
            #expect(release == "ID=debian\nVERSION_ID=13\nSYSEXT_SCOPE=initrd system portable\nARCHITECTURE=x86-64\n", "\(release)")
        }
        try Self.withRootPartition(out + "/conf.raw") { root in
            #expect((try? String(contentsOfFile: root + "/etc/mkosi-test/confext.conf", encoding: .utf8)) == "from the confext\n")
            #expect(!fm.fileExists(atPath: root + "/usr") && !fm.fileExists(atPath: root + "/etc/passwd"))
            let release = (try? String(contentsOfFile: root + "/etc/extension-release.d/extension-release.conf", encoding: .utf8)) ?? ""
            #expect(release.contains("CONFEXT_SCOPE=initrd system portable\n") && release.hasPrefix("ID=debian\n"), "\(release)")
        }
        try Self.withRootPartition(out + "/port.raw") { root in
            for file in ["usr/lib/os-release", "usr/lib/systemd/systemd", "etc/resolv.conf", "etc/machine-id", "etc/passwd"] {
                #expect(fm.fileExists(atPath: root + "/" + file), "the portable image lacks /\(file)")
            }
            #expect(!fm.fileExists(atPath: root + "/var/lib/dpkg/status"), "CleanPackageMetadata=yes left dpkg's database")
        }
        let skopeo = try Shell.run(["skopeo", "inspect", "oci:\(out)/oci"])
        #expect(skopeo.status == 0 && skopeo.stdout.contains("\"org.example.label\": \"yes\"") && skopeo.stdout.contains("\"amd64\""),
                "\(skopeo.stdout) \(skopeo.stderr)")
        let index = (try? String(contentsOfFile: out + "/oci/index.json", encoding: .utf8)) ?? ""
        #expect(index.contains("\"org.opencontainers.image.ref.name\": \"ocitest\""), "\(index)")
        let ukify = try Shell.run([mkosi, tools, "box", "--", "/usr/bin/python3", "/usr/bin/ukify", "inspect", out + "/addon.efi"], cwd: p.dir)
        #expect(ukify.status == 0 && ukify.stdout.contains(".cmdline") && ukify.stdout.contains("mkosi.addon=test"),
                "\(ukify.stdout) \(ukify.stderr.suffix(1500))")
        #expect(p.leftovers().isEmpty)

        // Errors, before anything is built.
        let unsigned = try Shell.run([mkosi, tools, "-f", "--verity=signed", "--verity-key=", "build"], cwd: p.dir)
        #expect(unsigned.status != 0 && unsigned.stderr.contains("Verity=signed") && unsigned.stderr.contains("no verity key"),
                "\(unsigned.stderr.suffix(1500))")
        chmod(p.dir + "/mkosi.key", 0o644)
        let readable = try Shell.run([mkosi, tools, "-f", "build"], cwd: p.dir)
        #expect(readable.status != 0 && readable.stderr.contains("are too open") && readable.stderr.contains("mkosi.key"),
                "\(readable.stderr.suffix(1500))")
        chmod(p.dir + "/mkosi.key", 0o600)
        let overlay = try Project(["mkosi.conf": Self.base + "[Output]\nFormat=sysext\nOverlay=yes\n"])
        let o = try Shell.run([mkosi, tools, "build"], cwd: overlay.dir)
        #expect(o.status != 0 && o.stderr.contains("Overlay=yes") && o.stderr.contains("mkosi.conf:") && o.stderr.contains("BaseTrees="),
                "\(o.stderr.suffix(1500))")
        #expect(p.leftovers().isEmpty && overlay.leftovers().isEmpty)
        #expect(fm.isExecutableFile(atPath: out + "/base/usr/lib/systemd/systemd"), "a refused build touched the outputs")
    }

    /// A Secure Boot disk over the same base, with the signed sysext in /var/lib/extensions: its
    /// boot loader and UKI verify with sbverify against mkosi.crt, `vm` boots it with our
    /// certificate enrolled (`FirmwareVariables=custom`, so Secure Boot is enforcing), the guest
    /// reports Secure Boot enabled, merges the extension and runs mkfs.btrfs from it. The same
    /// disk with the signatures stripped from its boot loader is refused by that firmware.
    @Test func secureBootDiskMergesTheSysextAtBoot() throws {
        var files = Self.extensionProject.filter { !$0.key.hasPrefix("mkosi.images/") || $0.key.hasPrefix("mkosi.images/b") }
        files["mkosi.conf"]! += "[Output]\nFormat=disk\nImageId=signed\n[Content]\nBaseTrees=%O/base\nPackages=linux-image-amd64\n  dbus\n"
            // systemd-sysext needs libcryptsetup for verity; Debian's systemd only recommends it.
            + "  libcryptsetup12\n"
            + "ExtraTrees=%O/btrfs.raw:/var/lib/extensions/btrfs.raw\nKernelInitrdModules=default\n"
            + "[Validation]\nSecureBoot=yes\n[Runtime]\nFirmwareVariables=custom\n"
        files["mkosi.extra/usr/lib/systemd/system/mkosi-check.service"] = """
            [Unit]
            After=local-fs.target systemd-sysext.service
            [Service]
            Type=oneshot
            StandardOutput=journal+console
            ExecStart=/bin/sh -c 'dmesg | grep -i "secure boot" | sed "s/^/mkosi-check /"; systemd-sysext merge; mkfs.btrfs --version | sed "s/^/mkosi-check /"'
            [Install]
            WantedBy=multi-user.target

            """
        files["mkosi.extra/etc/systemd/system/multi-user.target.wants/.keep"] = ""
        let p = try Project(files)
        try FileManager.default.createSymbolicLink(atPath: p.dir + "/mkosi.extra/etc/systemd/system/multi-user.target.wants/mkosi-check.service",
                                                   withDestinationPath: "/usr/lib/systemd/system/mkosi-check.service")
        let tools = "--tools-tree=\(Self.toolsTree)"
        #expect(try Shell.run([mkosi, "genkey"], cwd: p.dir).status == 0)
        let r = try Shell.run([mkosi, tools, "-f", "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let disk = p.dir + "/mkosi.output/signed.raw"
        guard let esp = try Self.partitionExtents(disk).first(where: { $0.type == Self.espType }) else {
            Issue.record("no ESP in \(disk)")
            return
        }
        // The ESP's EFI binaries, checked with the tools tree's mtools and sbverify.
        let verify = "for f in $(mdir -/ -b -i \"$0@@$1\" :: | grep -i '\\.efi$'); do mcopy -n -i \"$0@@$1\" \"$f\" /tmp/check.efi "
            + "&& echo \"$f: $(sbverify --cert \"$2\" /tmp/check.efi 2>&1)\"; done"
        let v = try Shell.run([mkosi, tools, "box", "--", "sh", "-c", verify, disk, String(esp.offset), p.dir + "/mkosi.crt"], cwd: p.dir)
        for binary in ["EFI/BOOT/BOOTX64.EFI", "EFI/systemd/systemd-bootx64.efi", "EFI/Linux/signed-"] {
            #expect(v.stdout.split(separator: "\n").contains { $0.contains(binary) && $0.hasSuffix("Signature verification OK") },
                    "\(binary) does not verify: \(v.stdout) \(v.stderr.suffix(1000))")
        }

        let (booted, text) = try runUntil([mkosi, tools, "vm"], cwd: p.dir, marker: "login:", timeout: 400)
        #expect(booted, "no login prompt from the Secure Boot VM: \(text.suffix(3000))")
        // The kernel reports what the firmware says ("secureboot: Secure boot enabled").
        #expect(text.contains("mkosi-check") && text.contains("Secure boot enabled"), "Secure Boot is not enabled in the guest: \(text.suffix(3000))")
        #expect(text.contains("mkosi-check mkfs.btrfs, part of btrfs-progs"), "mkfs.btrfs did not run from the sysext: \(text.suffix(3000))")

        // Without signatures, the firmware refuses the boot loader.
        let strip = "for f in ::/EFI/BOOT/BOOTX64.EFI ::/EFI/systemd/systemd-bootx64.efi; do mcopy -n -i \"$0@@$1\" \"$f\" /tmp/b.efi "
            + "&& sbattach --remove /tmp/b.efi && mcopy -o -i \"$0@@$1\" /tmp/b.efi \"$f\" || exit 1; done"
        let s = try Shell.run([mkosi, tools, "box", "--", "sh", "-c", strip, disk, String(esp.offset)], cwd: p.dir)
        #expect(s.status == 0, "\(s.stderr.suffix(1000))")
        let (refused, log) = try runUntil([mkosi, tools, "vm"], cwd: p.dir, marker: "Access Denied", timeout: 120)
        #expect(refused, "the firmware did not refuse the unsigned boot loader: \(log.suffix(2000))")
        #expect(!log.contains("login:"))
    }

    /// `UnifiedKernelImages=no`: the example boots through a Type #1 boot loader entry (kernel
    /// and initrd beside it in /boot, no UKI).
    @Test func type1EntryBoots() throws {
        let p = try exampleProject(["mkosi.conf.d/90-type1.conf": "[Content]\nUnifiedKernelImages=no\n"])
        let tools = "--tools-tree=\(Self.toolsTree)"
        let r = try Shell.run([mkosi, tools, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        #expect(r.stderr.contains("Writing the boot loader entry hello-"), "\(r.stderr.suffix(2000))")
        #expect(!r.stderr.contains("Building the UKI"))
        let (booted, text) = try runUntil([mkosi, tools, "vm"], cwd: p.dir, marker: "hello login:", timeout: 400)
        #expect(booted, "no login prompt through the Type #1 entry: \(text.suffix(3000))")
    }
}

extension BuildIntegrationTests {
    /// `BiosBootloader=grub` with `ShimBootloader=signed`: the example's disk gets a BIOS boot
    /// partition with grub embedded, grub's configuration with a Type #1 entry on the ESP, and
    /// Debian's signed shim and MokManager as the ESP's boot loader with systemd-boot as shim's
    /// second stage; qemu's default firmware (SeaBIOS) boots it through grub to the login prompt.
    @Test func biosGrubAndShim() throws {
        let p = try exampleProject(["mkosi.conf.d/90-grub.conf": "[Content]\nBiosBootloader=grub\nShimBootloader=signed\n"
                                    + "Packages=grub-pc-bin\n  shim-signed\n"
                                    // Without mkosi vm's credentials, systemd-firstboot would ask for a locale on the console.
                                    + "KernelCommandLine=console=ttyS0 systemd.firstboot=off\n"])
        let tools = "--tools-tree=\(Self.toolsTree)"
        let r = try Shell.run([mkosi, tools, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let disk = p.dir + "/hello.raw"
        let parts = try Self.partitionExtents(disk)
        #expect(parts.map(\.type) == [Self.espType, "21686148-6449-6e6f-744e-656564454649", Self.rootType], "\(parts.map(\.type))")
        #expect(parts.first.map { $0.size == 1 << 30 } == true, "the ESP is not 1G")
        guard let esp = parts.first else { return }
        let list = "mdir -/ -b -i \"$0@@$1\" ::; mtype -i \"$0@@$1\" ::/grub/grub.cfg"
        let l = try Shell.run([mkosi, tools, "box", "--", "sh", "-c", list, disk, String(esp.offset)], cwd: p.dir)
        for file in ["::/EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/mmx64.efi", "::/EFI/BOOT/grubx64.EFI", "::/grub/grub.cfg",
                     "menuentry \"hello-", "root=PARTUUID="] {
            #expect(l.stdout.contains(file), "\(file) missing: \(l.stdout) \(l.stderr.suffix(500))")
        }
        #expect(r.stderr.contains("Installing the signed shim EFI binary /usr/lib/shim/shimx64.efi.signed"), "\(r.stderr.suffix(1500))")

        let qemu = ["timeout", "300", "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-m", "1536",
                    "-nographic", "-drive", "file=\(disk),format=raw,if=virtio"]
        let (booted, text) = try runUntil([mkosi, tools, "box", "--"] + qemu, cwd: p.dir, marker: "hello login:", timeout: 320)
        #expect(booted && text.contains("SeaBIOS") && text.contains("GRUB"), "no login prompt through grub on BIOS: \(text.suffix(3000))")
        _ = try? Shell.run(["pkill", "-f", "file=\(disk)"])
    }
}
