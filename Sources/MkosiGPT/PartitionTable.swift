#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// A partition of a disk image, as `systemd-repart --json` describes it.
public struct Partition: Sendable {
    public let type: String
    public let uuid: String
    public let number: Int
    public let roothash: String?
    public let splitPath: String?
}

/// Reading partition tables: what `systemd-repart --json` says of a disk image, and the root
/// partition of a GPT disk read directly. Knows no configuration: the build writes disks, the
/// runtime boots them, and both read them through here.
public enum PartitionTable {
    /// The partitions in the output of `systemd-repart --json`.
    public static func parse(_ output: String) throws -> [Partition] {
        guard case .array(let items) = try JSON.parse(output) else {
            throw MkosiError(.invalidData, "systemd-repart printed no partition table", hint: "Is systemd-repart new enough (254 or newer) for --json?")
        }
        return items.map { item in
            func string(_ key: String) -> String? {
                if case .string(let v)? = item[key] { return v }
                return nil
            }
            var number = 0
            if case .int(let n)? = item["partno"] { number = n }
            let roothash = string("roothash").flatMap { $0 == "TBD" ? nil : $0 }
            let split = string("split_path").flatMap { $0 == "-" ? nil : $0 }
            return Partition(type: string("type") ?? "", uuid: string("uuid") ?? "", number: number,
                             roothash: roothash, splitPath: split)
        }
    }

    /// `roothash=` or `usrhash=` for the kernel command line, from the first verity-protected
    /// root or /usr partition.
    public static func verityArgument(_ partitions: [Partition]) -> String? {
        if let p = partitions.first(where: { $0.type.hasPrefix("root") && $0.roothash != nil }) { return "roothash=\(p.roothash!)" }
        if let p = partitions.first(where: { $0.type.hasPrefix("usr") && $0.roothash != nil }) { return "usrhash=\(p.roothash!)" }
        return nil
    }

    /// The byte offset and size of the first root partition (any `root-*` type that is not
    /// verity data) of a GPT disk image with 512-byte sectors; nil if there is none.
    public static func rootPartition(of image: String) throws -> (offset: UInt64, size: UInt64)? {
        let fd = open(image, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FS.systemError("Cannot open \(image)") }
        defer { close(fd) }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: count)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return n == count ? buffer : []
        }
        func le(_ b: [UInt8], _ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) } }
        let header = read(512, 92)
        guard header.count == 92, header[0..<8].elementsEqual(Array("EFI PART".utf8)) else { return nil }
        let lba = le(header, 72, 8), count = Int(le(header, 80, 4)), size = Int(le(header, 84, 4))
        guard count > 0, count <= 1024, size >= 128, size <= 4096 else { return nil }
        let entries = read(lba * 512, count * size)
        guard !entries.isEmpty else { return nil }
        // Root partition types (the first three bytes of the GUID, as stored on disk, would do;
        // the full GUIDs keep it exact): root for x86-64, aarch64, x86, generic.
        let rootTypes: Set<String> = ["4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "b921b045-1df0-41c3-af44-4c6f280d3fae",
                                      "44479540-f297-41b2-9af7-d131d5f0458a", "0fc63daf-8483-4772-8e79-3d69d8477de4"]
        for i in 0..<count {
            let e = Array(entries[(i * size)..<(i * size + size)])
            func hex(_ bytes: [UInt8]) -> String {
                bytes.map { b in String(b >> 4, radix: 16) + String(b & 15, radix: 16) }.joined()
            }
            let type = hex([e[3], e[2], e[1], e[0]]) + "-" + hex([e[5], e[4]]) + "-" + hex([e[7], e[6]]) + "-"
                + hex(Array(e[8..<10])) + "-" + hex(Array(e[10..<16]))
            guard rootTypes.contains(type) else { continue }
            let first = le(e, 32, 8), last = le(e, 40, 8)
            return (first * 512, (last - first + 1) * 512)
        }
        return nil
    }
}
