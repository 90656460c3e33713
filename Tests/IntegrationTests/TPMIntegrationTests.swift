import Foundation
import Testing
import TestSupport

extension BuildIntegrationTests {
    /// `TPM=auto` under TCG, as upstream: the example image with systemd-repart definitions in
    /// `/usr/lib/repart.d` that add a partition at first boot, encrypted with `Encrypt=tpm2`,
    /// boots to the login prompt with systemd-repart.service finished, and the new partition is
    /// LUKS with a systemd-tpm2 token. Without a TPM, repart fails at boot ("Failed to start
    /// systemd-repart.service").
    @Test func firstBootRepartEncryptsWithTheTPMUnderTCG() throws {
        let p = try exampleProject([
            "mkosi.conf.d/20-tpm.conf": "[Content]\nPackages=systemd-repart libcryptsetup12 e2fsprogs libtss2-esys-3.0.2-0t64 "
                + "libtss2-rc0t64 libtss2-mu-4.0.1-0t64 libtss2-tcti-device0t64\n[Runtime]\nRuntimeSize=2G\nTPM=auto\n",
            // The partitions the image has, left as they are, and one more.
            "mkosi.extra/usr/lib/repart.d/00-esp.conf": "[Partition]\nType=esp\nWeight=0\n",
            "mkosi.extra/usr/lib/repart.d/10-root.conf": "[Partition]\nType=root\nWeight=0\n",
            "mkosi.extra/usr/lib/repart.d/20-secret.conf": "[Partition]\nType=linux-generic\nLabel=secret\nFormat=ext4\n"
                + "Encrypt=tpm2\nSizeMinBytes=64M\nSizeMaxBytes=64M\n",
        ])
        let tools = "--tools-tree=\(Self.toolsTree)"
        let build = try Shell.run([mkosi, tools, "build"], cwd: p.dir)
        #expect(build.status == 0, "\(build.stderr.suffix(3000))")
        let (booted, text) = try runUntil([mkosi, tools, "--kernel-command-line-extra=systemd.hostname=mkositpm", "vm"],
                                          cwd: p.dir, marker: "mkositpm login:", timeout: 400)
        #expect(booted, "no login prompt: \(text.suffix(3000))")
        #expect(text.contains("Finished systemd-repart.service"), "systemd-repart did not finish: \(text.suffix(3000))")
        #expect(!text.contains("Failed to start systemd-repart.service"), "\(text.suffix(3000))")

        let image = p.dir + "/hello.raw"
        let generic = "0fc63daf-8483-4772-8e79-3d69d8477de4"
        let partitions = try Self.partitionExtents(image)
        let added = partitions.filter { $0.type == generic }
        #expect(added.count == 1, "partitions after the boot: \(partitions)")
        if let secret = added.first {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: image))
            defer { try? handle.close() }
            try handle.seek(toOffset: secret.offset)
            // The LUKS2 header: its magic, then the JSON area with the keyslots and tokens.
            let header = try handle.read(upToCount: 32 << 10) ?? Data()
            #expect(header.prefix(6) == Data([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]), "the added partition is not LUKS")
            #expect(String(decoding: header, as: UTF8.self).contains("\"systemd-tpm2\""), "no systemd-tpm2 token in the LUKS header")
        }
    }
}
