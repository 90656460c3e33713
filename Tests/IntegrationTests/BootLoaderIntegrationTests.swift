import Foundation
import Testing
import TestSupport

/// The distributions' prebuilt signed boot binaries, as upstream installs them. Part of the
/// serialized `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// `Bootloader=uki-signed`: the distribution's prebuilt UKI, here from a package of a local
    /// repository (`mkosi.packages/`) that puts it beside each kernel in
    /// `/usr/lib/modules/VERSION/` (where Fedora's kernel-uki-virt ships its UKI), becomes the
    /// ESP's boot loader byte for byte; no UKI is built, so neither ukify nor a tools tree is
    /// needed.
    @Test func prebuiltSignedUKIFromAPackage() throws {
        let uki = "MZ a prebuilt signed UKI\n"
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nBootable=yes\nBootloader=uki-signed\nInitrds=\n"
                + "KernelModulesInitrd=no\nPackages=linux-image-amd64\n  mkosi-test-uki\n",
            "pkg/DEBIAN/control": "Package: mkosi-test-uki\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.com>\n"
                + "Depends: linux-image-amd64\nDescription: a prebuilt UKI for each kernel\n",
            "pkg/DEBIAN/postinst": "#!/bin/sh\nset -e\nfor d in /usr/lib/modules/*/; do cp /usr/share/mkosi-test-uki/uki.efi \"$d/mkosi-test.efi\"; done\n",
            "pkg/usr/share/mkosi-test-uki/uki.efi": uki,
        ], executable: ["pkg/DEBIAN/postinst"])
        try FileManager.default.createDirectory(atPath: p.dir + "/mkosi.packages", withIntermediateDirectories: true)
        #expect(try Shell.run(["dpkg-deb", "--build", "pkg", "mkosi.packages/mkosi-test-uki_1.0_all.deb"], cwd: p.dir).status == 0)
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        #expect(r.stderr.contains("Installing the prebuilt UKI /usr/lib/modules/") && !r.stderr.contains("Building the UKI"),
                "\(r.stderr.suffix(2000))")
        #expect((try? String(contentsOfFile: p.dir + "/image/efi/EFI/BOOT/BOOTX64.EFI", encoding: .utf8)) == uki)
        #expect(!FileManager.default.fileExists(atPath: p.dir + "/image/efi/EFI/systemd"))
        #expect(p.leftovers().isEmpty, "\(p.leftovers())")
    }
}
