import Foundation
import Testing
import TestSupport

/// `ElTorito=` with systemd-repart 261 or newer (the Debian testing tools tree). Part of the
/// serialized `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// The El Torito boot catalog of `image`, read as firmware reads it: the ISO 9660 primary
    /// volume descriptor (sector 16 of 2048 bytes) for the identifiers, the boot record (sector
    /// 17) for the catalog, and the catalog's platform and default entry. Nil without a boot record.
    static func elTorito(_ image: String) throws -> (system: String, volume: String, publisher: String, platform: UInt8,
                                                     bootable: Bool, offset: UInt64)? {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: image))
        defer { try? handle.close() }
        func sector(_ n: UInt64) throws -> [UInt8] {
            try handle.seek(toOffset: n * 2048)
            return [UInt8](try handle.read(upToCount: 2048) ?? Data())
        }
        func text(_ b: [UInt8], _ range: Range<Int>) -> String {
            String(decoding: b[range], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        let record = try sector(17)
        guard record.count == 2048, record[0] == 0, text(record, 1..<6) == "CD001",
              text(record, 7..<30) == "EL TORITO SPECIFICATION" else { return nil }
        let primary = try sector(16)
        let catalogSector = (0..<4).reduce(UInt64(0)) { $0 | UInt64(record[0x47 + $1]) << (8 * $1) }
        let catalog = try sector(catalogSector)
        let lba = (0..<4).reduce(UInt64(0)) { $0 | UInt64(catalog[32 + 8 + $1]) << (8 * $1) }
        return (text(primary, 8..<40), text(primary, 40..<72), text(primary, 318..<446), catalog[1], catalog[32] == 0x88, lba * 2048)
    }

    /// A disk with an ESP gets a boot catalog whose UEFI entry is the ESP, with the ISO 9660
    /// identifiers of `ElToritoSystem=`, `ElToritoVolume=` and `ElToritoPublisher=`; one without
    /// an ESP gets none under `ElTorito=auto` (repart would fail: its first partition sits where
    /// the descriptors go).
    @Test func elToritoCatalogBootsTheESP() throws {
        let conf = "[Distribution]\nDistribution=custom\n[Output]\nFormat=disk\nElToritoSystem=MKOSI-SYSTEM\nElToritoVolume=MKOSI-VOLUME\n"
            + "ElToritoPublisher=mkosi test\n[Build]\nToolsTree=\(Self.testingToolsTree)\n"
        let root = "[Partition]\nType=root\nFormat=erofs\nCopyFiles=/usr:/usr\nMinimize=best\n"
        let p = try Project([
            "mkosi.conf": conf,
            "mkosi.extra/usr/lib/os-release": "ID=mkosi-el-torito\n",
            "mkosi.extra/efi/EFI/BOOT/BOOTX64.EFI": "a stand-in\n",
            "mkosi.repart/00-esp.conf": "[Partition]\nType=esp\nFormat=vfat\nCopyFiles=/efi:/\n",
            "mkosi.repart/10-root.conf": root,
        ])
        let r = try Shell.run([mkosi, "-f", "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(3000))")
        let esp = try Self.partitionExtents(p.dir + "/image.raw").first { $0.type == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b" }
        let catalog = try #require(try Self.elTorito(p.dir + "/image.raw"))
        #expect(catalog.system == "MKOSI-SYSTEM" && catalog.volume == "MKOSI-VOLUME" && catalog.publisher == "mkosi test", "\(catalog)")
        #expect(catalog.platform == 0xEF && catalog.bootable && catalog.offset == esp?.offset, "\(catalog) \(String(describing: esp))")
        #expect(p.leftovers().isEmpty)

        let noESP = try Project(["mkosi.conf": conf, "mkosi.extra/usr/lib/os-release": "ID=mkosi-el-torito\n",
                                 "mkosi.repart/10-root.conf": root])
        let plain = try Shell.run([mkosi, "-f", "build"], cwd: noESP.dir)
        #expect(plain.status == 0, "\(plain.stderr.suffix(3000))")
        #expect(try Self.elTorito(noESP.dir + "/image.raw") == nil)
    }
}
