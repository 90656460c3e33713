import Foundation
import MkosiConfig
import MkosiCore
import Testing
@testable import MkosiBuild

/// The boot loader choices as upstream makes them: which kernels become UKIs, prebuilt or made
/// here, or Type #1 entries; what grub's configuration says; what lands on the ESP for signed
/// boot loaders, shim and `Format=esp`; how auto-enrolment keys are written. The image is a
/// scratch tree with stand-ins for the distribution's files; no tool runs.
@Suite struct BootLoaderTests {
    static let kernel = "6.12.48+deb13-amd64"

    /// A scratch project with `conf` after a Debian base, and a build context for its main
    /// image whose root holds `files` (path → content).
    final class Image {
        let dir: String
        let context: BuildContext
        init(_ conf: String, files: [String: String] = [:]) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-boot-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir + "/ws", withIntermediateDirectories: true)
            let text = "[Distribution]\nDistribution=debian\nRelease=trixie\n[Output]\nImageId=test\n[Build]\nWorkspaceDirectory=\(dir)/ws\n"
                + "[Content]\nInitrds=\nKernelModulesInitrd=no\n" + conf
            try text.write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
            let loaded = try ConfigLoader.load(["build"], cwd: dir, resources: BuiltinResources())
            context = try BuildContext(config: try #require(loaded.main), args: loaded.args, cwd: dir)
            var all = files
            all["usr/lib/modules/\(BootLoaderTests.kernel)/vmlinuz"] = all["usr/lib/modules/\(BootLoaderTests.kernel)/vmlinuz"] ?? "KERNEL"
            all["usr/lib/os-release"] = "ID=debian\n"
            for (path, content) in all { try write(path, content) }
        }
        deinit {
            context.cleanup()
            try? FileManager.default.removeItem(atPath: dir)
        }

        func write(_ path: String, _ content: String) throws {
            let full = context.root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: true, encoding: .utf8)
        }

        /// The content of `path` below the image root, nil if missing.
        func read(_ path: String) -> String? { try? String(contentsOfFile: context.root + "/" + path, encoding: .utf8) }
    }

    static let signedGrub = "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"
    static let signedShim = ["usr/lib/shim/shimx64.efi.signed": "SHIM", "usr/lib/shim/mmx64.efi.signed": "MOK"]

    func plan(_ conf: String, stub: Bool) throws -> Boot.KernelPlan {
        let image = try Image(conf)
        return Boot.kernelPlan(image.context.config, imageHasStub: stub)
    }

    /// Upstream's `want_uki` and `install_uki`: signed boot loaders take the distribution's
    /// prebuilt UKIs, or Type #1 entries when the image has no UKI stub.
    @Test func kernelPlanIsUpstreams() throws {
        #expect(try plan("", stub: true) == .buildUKI)
        #expect(try plan("", stub: false) == .type1)  // auto without any stub: Type #1 entries
        #expect(try plan("UnifiedKernelImages=no\n", stub: true) == .type1)
        #expect(try plan("UnifiedKernelImages=signed\n", stub: false) == .prebuiltUKI)
        #expect(try plan("UnifiedKernelImages=yes\n", stub: false) == .prebuiltUKI)  // yes means signed, as upstream
        #expect(try plan("Bootloader=systemd-boot-signed\n", stub: true) == .prebuiltUKI)
        #expect(try plan("Bootloader=systemd-boot-signed\n", stub: false) == .type1)
        #expect(try plan("Bootloader=grub-signed\n", stub: false) == .type1)
        #expect(try plan("Bootloader=grub-signed\nUnifiedKernelImages=unsigned\n", stub: false) == .buildUKI)
        #expect(try plan("Bootloader=uki-signed\n", stub: false) == .prebuiltUKI)
        #expect(try plan("Bootloader=grub\n", stub: true) == .buildUKI)
    }

    /// grub's menu entries, as upstream writes them.
    @Test func grubEntries() {
        #expect(Grub.type1Entry(name: "test-6.1", kernel: "/test/6.1/vmlinuz", initrds: ["/test/initrd", "/test/6.1/kmod"],
                                options: "root=PARTUUID=x quiet", efi: true, bios: true)
                == "if [ \"${grub_platform}\" == \"efi\" -o \"${grub_platform}\" == \"pc\" ]; then\nmenuentry \"test-6.1\" {\n"
                   + "    linux /test/6.1/vmlinuz root=PARTUUID=x quiet\n    initrd /test/initrd /test/6.1/kmod\n}\nfi\n")
        #expect(Grub.type1Entry(name: "t", kernel: "/k", initrds: ["/i"], options: "", efi: true, bios: false)
                    .hasPrefix("if [ \"${grub_platform}\" == \"efi\" ]; then\n"))
        #expect(Grub.ukiEntry(name: "test-6.1", uki: "/EFI/Linux/test-6.1.efi")
                == "if [ \"${grub_platform}\" == \"efi\" ]; then\nmenuentry \"test-6.1\" {\n    chainloader /EFI/Linux/test-6.1.efi\n}\nfi\n")
    }

    /// `Bootloader=grub-signed` with `ShimBootloader=signed` and no UKI stub in the image (a
    /// Debian image with grub-efi-amd64-signed and shim-signed): Debian's signed shim, MokManager
    /// and grub on the ESP, the kernel as it is (Debian signs it) in a Type #1 entry, and a grub
    /// menu entry for it on EFI.
    @Test func signedGrubBootsType1Entries() throws {
        let image = try Image("[Content]\nBootable=yes\nBootloader=grub-signed\nShimBootloader=signed\n",
                              files: Self.signedShim.merging([Self.signedGrub: "SIGNED GRUB"]) { a, _ in a })
        let context = image.context
        #expect(try Boot.installSystemdBoot(context))
        try Grub.install(context)
        try Shim.install(context)
        #expect(try Boot.buildUKIs(context, partitions: []).isEmpty)
        #expect(image.read("efi/EFI/BOOT/BOOTX64.EFI") == "SHIM")
        #expect(image.read("efi/EFI/BOOT/mmx64.efi") == "MOK")
        #expect(image.read("efi/EFI/BOOT/grubx64.EFI") == "SIGNED GRUB")
        #expect(image.read("efi/EFI/debian/grub.cfg") == "configfile /grub/grub.cfg\n")
        #expect(image.read("boot/test/\(Self.kernel)/vmlinuz") == "KERNEL")
        let cfg = image.read("efi/grub/grub.cfg") ?? ""
        #expect(cfg.contains("if [ \"${grub_platform}\" == \"efi\" ]; then\nmenuentry \"test-\(Self.kernel)\" {\n"
                             + "    linux /test/\(Self.kernel)/vmlinuz "), "\(cfg)")
        #expect(!FileManager.default.fileExists(atPath: context.root + "/boot/EFI/Linux"))
    }

    /// `Bootloader=systemd-boot-signed` wants the distribution's signed systemd-boot in the
    /// image, and makes nothing else do.
    @Test func signedSystemdBootWantsTheSignedBinary() throws {
        let image = try Image("[Content]\nBootable=yes\nBootloader=systemd-boot-signed\n",
                              files: ["usr/lib/systemd/boot/efi/systemd-bootx64.efi": "UNSIGNED"])
        let error = #expect(throws: MkosiError.self) { try Boot.installSystemdBoot(image.context) }
        #expect(error?.description.contains("no signed systemd-boot") == true, "\(String(describing: error))")
        #expect(error?.hint?.contains("systemd-boot-efi-amd64-signed") == true)
        let auto = try Image("[Content]\nBootloader=systemd-boot-signed\n",
                             files: ["usr/lib/systemd/boot/efi/systemd-bootx64.efi": "UNSIGNED"])
        #expect(try Boot.installSystemdBoot(auto.context) == false)
    }

    /// `Bootloader=uki-signed` and `UnifiedKernelImages=signed`: the prebuilt UKI from
    /// `/usr/lib/modules/<version>/` is the ESP's boot loader, or a UKI beside systemd-boot; a
    /// missing one is an error with `Bootable=yes`.
    @Test func prebuiltUKIs() throws {
        let prebuilt = ["usr/lib/modules/\(Self.kernel)/vmlinuz-virt.efi": "PREBUILT UKI"]
        let uki = try Image("[Content]\nBootable=yes\nBootloader=uki-signed\n", files: prebuilt)
        #expect(try Boot.installSystemdBoot(uki.context))
        #expect(try Boot.buildUKIs(uki.context, partitions: []).count == 1)
        #expect(uki.read("efi/EFI/BOOT/BOOTX64.EFI") == "PREBUILT UKI")

        let beside = try Image("[Content]\nBootable=yes\nUnifiedKernelImages=signed\n", files: prebuilt)
        #expect(try Boot.buildUKIs(beside.context, partitions: []).count == 1)
        #expect(beside.read("boot/EFI/Linux/test-\(Self.kernel).efi") == "PREBUILT UKI")

        let missing = try Image("[Content]\nBootable=yes\nBootloader=uki-signed\n")
        let error = #expect(throws: MkosiError.self) { try Boot.buildUKIs(missing.context, partitions: []) }
        #expect(error?.description.contains("Couldn't find a signed UKI installed at /usr/lib/modules/\(Self.kernel)") == true)
        let auto = try Image("[Content]\nBootloader=uki-signed\n")
        #expect(try Boot.buildUKIs(auto.context, partitions: []).isEmpty)
    }

    /// grub as the EFI boot loader without UKIs (`UnifiedKernelImages=no`): Type #1 entries, and
    /// a grub menu entry for each on EFI.
    @Test func grubOnEFIWithoutUKIsGetsMenuEntries() throws {
        let image = try Image("[Content]\nBootable=yes\nBootloader=grub\nUnifiedKernelImages=no\n",
                              files: ["usr/lib/grub/x86_64-efi/normal.mod": "mod"])
        #expect(try Boot.buildUKIs(image.context, partitions: []).isEmpty)
        #expect(image.read("boot/loader/entries/test-\(Self.kernel).conf")?.contains("linux /test/\(Self.kernel)/vmlinuz") == true)
        let cfg = image.read("efi/grub/grub.cfg") ?? ""
        #expect(cfg.contains("if [ \"${grub_platform}\" == \"efi\" ]; then\nmenuentry \"test-\(Self.kernel)\""), "\(cfg)")
    }

    /// `Format=esp`: grub (the signed one here) with a menu entry chainloading the UKI, shim in
    /// front of whichever boot loader, and for `Bootloader=uki` the UKI as shim's second stage.
    @Test func espBootLoaders() throws {
        let grub = try Image("[Output]\nFormat=esp\n[Content]\nBootloader=grub-signed\nShimBootloader=signed\n",
                             files: Self.signedShim.merging([Self.signedGrub: "SIGNED GRUB"]) { a, _ in a })
        let tree = grub.context.workspace + "/esp"
        let kernel = try #require(Boot.kernels(grub.context).first)
        #expect(try Boot.installESPBootLoader(grub.context, tree: tree, kernel: kernel) == "EFI/Linux/test-\(Self.kernel).efi")
        func read(_ path: String) -> String? { try? String(contentsOfFile: tree + "/" + path, encoding: .utf8) }
        #expect(read("EFI/BOOT/BOOTX64.EFI") == "SHIM")
        #expect(read("EFI/BOOT/mmx64.efi") == "MOK")
        #expect(read("EFI/BOOT/grubx64.EFI") == "SIGNED GRUB")
        #expect(read("EFI/debian/grub.cfg") == "configfile /grub/grub.cfg\n")
        #expect(read("grub/grub.cfg") == "set timeout=0\n" + Grub.ukiEntry(name: "test-\(Self.kernel)", uki: "/EFI/Linux/test-\(Self.kernel).efi"))
        #expect(!FileManager.default.fileExists(atPath: tree + "/EFI/systemd"))

        let sdboot = try Image("[Output]\nFormat=esp\n[Content]\nShimBootloader=signed\n",
                               files: Self.signedShim.merging(["usr/lib/systemd/boot/efi/systemd-bootx64.efi": "SD-BOOT"]) { a, _ in a })
        let sdTree = sdboot.context.workspace + "/esp"
        #expect(try Boot.installESPBootLoader(sdboot.context, tree: sdTree, kernel: kernel) == "EFI/Linux/test-\(Self.kernel).efi")
        #expect(try String(contentsOfFile: sdTree + "/EFI/BOOT/BOOTX64.EFI", encoding: .utf8) == "SHIM")
        #expect(try String(contentsOfFile: sdTree + "/EFI/BOOT/grubx64.EFI", encoding: .utf8) == "SD-BOOT")
        #expect(try String(contentsOfFile: sdTree + "/EFI/systemd/systemd-bootx64.efi", encoding: .utf8) == "SD-BOOT")

        let uki = try Image("[Output]\nFormat=esp\n[Content]\nBootloader=uki\nShimBootloader=signed\n", files: Self.signedShim)
        let ukiTree = uki.context.workspace + "/esp"
        #expect(try Boot.installESPBootLoader(uki.context, tree: ukiTree, kernel: kernel) == "EFI/BOOT/grubx64.EFI")
        #expect(try String(contentsOfFile: ukiTree + "/EFI/BOOT/BOOTX64.EFI", encoding: .utf8) == "SHIM")
    }

    /// `SecureBootAutoEnroll=`: bootctl 257 writes the keys; an older one, or none (`Format=esp`),
    /// leaves them to efitools, as upstream.
    @Test func autoEnrollment() throws {
        let keys = "[Validation]\nSecureBoot=yes\nSecureBootKey=sb.key\nSecureBootCertificate=sb.crt\n"
        let image = try Image("[Content]\nBootable=yes\n" + keys)
        let config = image.context.config
        #expect(SecureBoot.autoEnroll(config, bootctlVersion: 257) == .bootctl)
        #expect(SecureBoot.autoEnroll(config, bootctlVersion: 256) == .efitools)
        #expect(SecureBoot.autoEnroll(config, bootctlVersion: nil) == .efitools)
        var sandbox = image.context.toolsSandbox()
        #expect(SecureBoot.bootctlArguments(image.context, bootctlVersion: 256, sandbox: &sandbox).isEmpty)
        #expect(SecureBoot.bootctlArguments(image.context, bootctlVersion: 258, sandbox: &sandbox).contains("--secure-boot-auto-enroll=yes"))
        let off = try Image("[Content]\nBootable=yes\n" + keys + "SecureBootAutoEnroll=no\n")
        #expect(SecureBoot.autoEnroll(off.context.config, bootctlVersion: 256) == .none)
        let grub = try Image("[Content]\nBootable=yes\nBootloader=grub\n" + keys)
        #expect(SecureBoot.autoEnroll(grub.context.config, bootctlVersion: 256) == .none)
        let commands = SecureBoot.autoEnrollCommands()
        #expect(commands.map { $0[0] } == ["openssl", "sbsiglist", "sbvarsign", "sbvarsign", "sbvarsign"])
        #expect(commands.suffix(3).map { $0.suffix(3) } == [["/work/keys/PK.auth", "PK", "/work/ws/secure-boot.esl"],
                                                            ["/work/keys/KEK.auth", "KEK", "/work/ws/secure-boot.esl"],
                                                            ["/work/keys/db.auth", "db", "/work/ws/secure-boot.esl"]])
    }
}
