#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// Reads and rewrites the disk GUID of a GPT disk (a file or a block device), in its primary
/// header and in the backup header that names, with both header checksums made anew. Used by
/// `mkosi burn` so that the medium keeps the image's identity, as a byte-for-byte copy would.
public enum GPTHeader {
    /// Header offsets (UEFI spec 5.3.2).
    static let signature = Array("EFI PART".utf8)

    /// The sector size (512 or 4096) whose LBA 1 holds the GPT header, nil when there is none.
    static func sectorSize(_ fd: Int32) -> Int? {
        for size in [512, 4096] {
            var bytes = [UInt8](repeating: 0, count: 8)
            if pread(fd, &bytes, 8, off_t(size)) == 8, bytes == signature { return size }
        }
        return nil
    }

    /// The disk GUID of `path` (16 bytes as stored).
    public static func diskGUID(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FS.systemError("Cannot open \(path)") }
        defer { close(fd) }
        guard let sector = sectorSize(fd) else { throw MkosiError(.invalidData, "\(path) has no GPT partition table") }
        var guid = [UInt8](repeating: 0, count: 16)
        guard pread(fd, &guid, 16, off_t(sector + 56)) == 16 else { throw FS.systemError("Cannot read \(path)") }
        return guid
    }

    /// Sets the disk GUID of `path` to `guid` in both headers.
    public static func setDiskGUID(_ path: String, _ guid: [UInt8]) throws {
        precondition(guid.count == 16)
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw FS.systemError("Cannot open \(path)") }
        defer { close(fd) }
        guard let sector = sectorSize(fd) else { throw MkosiError(.invalidData, "\(path) has no GPT partition table") }
        var primary = [UInt8](repeating: 0, count: 92)
        guard pread(fd, &primary, 92, off_t(sector)) == 92 else { throw FS.systemError("Cannot read \(path)") }
        let backupLBA = (0..<8).reduce(UInt64(0)) { $0 | UInt64(primary[32 + $1]) << (8 * UInt64($1)) }
        let sectorOffset = off_t(sector)
        let backupOffset = off_t(backupLBA) * sectorOffset
        for offset in [sectorOffset, backupOffset] {
            var header = [UInt8](repeating: 0, count: 92)
            guard pread(fd, &header, 92, offset) == 92, Array(header[0..<8]) == signature else {
                throw MkosiError(.invalidData, "\(path): no GPT header at byte \(offset)")
            }
            let size = Int(UInt32(header[12]) | UInt32(header[13]) << 8 | UInt32(header[14]) << 16 | UInt32(header[15]) << 24)
            guard size >= 92, size <= sector else { throw MkosiError(.invalidData, "\(path): GPT header size \(size) is invalid") }
            var full = [UInt8](repeating: 0, count: size)
            guard pread(fd, &full, size, offset) == size else { throw FS.systemError("Cannot read \(path)") }
            full.replaceSubrange(56..<72, with: guid)
            full.replaceSubrange(16..<20, with: [0, 0, 0, 0])
            let crc = crc32(full)
            full.replaceSubrange(16..<20, with: (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) })
            guard pwrite(fd, full, size, offset) == size else { throw FS.systemError("Cannot write \(path)") }
        }
        guard fsync(fd) == 0 else { throw FS.systemError("Cannot sync \(path)") }
    }

    /// CRC-32 (IEEE 802.3, reflected), as the GPT uses it.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
