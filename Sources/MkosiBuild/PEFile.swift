import Foundation
import MkosiCore

/// The sections of a PE file (an EFI binary: a UKI, the UKI stub), read from its section table.
/// Enough to take a section's contents out, as upstream does with pefile: `.linux` and
/// `.initrd` of a UKI for `SplitArtifacts=`, `.sdmagic` of the stub for its systemd version.
struct PEFile {
    struct Section: Equatable {
        let name: String
        /// The section's size in memory: its contents, without the file alignment's padding.
        let virtualSize: Int
        let rawOffset: Int
        let rawSize: Int
    }

    let data: Data
    let sections: [Section]

    /// Parses `data`; nil when it is not a PE file.
    init?(_ data: Data) {
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int? { at + 2 <= bytes.count ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : nil }
        func u32(_ at: Int) -> Int? {
            guard at + 4 <= bytes.count else { return nil }
            return (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
        }
        guard bytes.count > 0x40, bytes[0] == 0x4D, bytes[1] == 0x5A, let pe = u32(0x3C), pe + 24 <= bytes.count,
              bytes[pe..<pe + 4].elementsEqual([0x50, 0x45, 0, 0]),
              let count = u16(pe + 6), let optional = u16(pe + 20) else { return nil }
        var sections: [Section] = []
        let table = pe + 24 + optional
        for i in 0..<count {
            let at = table + 40 * i
            guard at + 40 <= bytes.count, let virtualSize = u32(at + 8), let rawSize = u32(at + 16), let rawOffset = u32(at + 20) else {
                return nil
            }
            let name = String(decoding: bytes[at..<at + 8].prefix { $0 != 0 }, as: UTF8.self)
            sections.append(Section(name: name, virtualSize: virtualSize, rawOffset: rawOffset, rawSize: rawSize))
        }
        self.data = data
        self.sections = sections
    }

    /// Reads the PE file at `path`; nil when it cannot be read or is not one.
    static func read(_ path: String) -> PEFile? {
        FileManager.default.contents(atPath: path).flatMap(PEFile.init)
    }

    /// The contents of the section `name` (its virtual size, as far as the file holds it).
    func section(_ name: String) -> Data? {
        guard let s = sections.first(where: { $0.name == name }) else { return nil }
        let end = min(s.rawOffset + min(s.virtualSize, s.rawSize), data.count)
        guard s.rawOffset <= end else { return nil }
        return data.subdata(in: s.rawOffset..<end)
    }

    /// The systemd version of a systemd-stub, from its `.sdmagic` section
    /// (`#### LoaderInfo: systemd-stub 257.9-1 ####`); nil when there is none.
    var stubVersion: Int? {
        guard let magic = section(".sdmagic") else { return nil }
        let text = String(decoding: magic, as: UTF8.self)
        guard let range = text.range(of: "systemd-stub ") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// Writes the section `name` of the PE file `pe` to `output`.
    ///
    /// - Throws: `MkosiError(.invalidData)` when `pe` is not a PE file or has no such section.
    static func extract(_ name: String, from pe: String, to output: String) throws {
        guard let file = read(pe) else { throw MkosiError(.invalidData, "\(pe) is not a PE file") }
        guard let contents = file.section(name) else { throw MkosiError(.invalidData, "\(pe) has no \(name) section") }
        try FS.writeAtomically(output, [UInt8](contents))
    }
}
