import MkosiCore

/// mkosi's INI dialect.
///
/// - `#` starts a comment anywhere on a line (so values cannot contain `#`); `;` does not.
/// - The whole file is dedented first; blank lines are skipped.
/// - `[Section]` starts a section. `Key=Value` has both sides stripped; an indented line after
///   a setting continues its value (joined with a newline).
/// - Keys may repeat; every occurrence is returned, in order.
/// - A section line without `]`, an empty section name and a setting outside any section are
///   errors; a line without `=` or without a key is an error only in a section that is read.
///   Errors name the file and line.
///
/// A file is scanned once into a stream of items; readers walk the stream and meet errors at
/// the point upstream's streaming parser would.
public enum IniFile {
    public struct Entry: Equatable, Sendable {
        public var section: String
        public var key: String
        public var value: String
        /// 1-based line number of the key.
        public var line: Int
    }

    public enum Item: Sendable {
        case section(name: String, line: Int)
        case entry(Entry)
        /// An error in the current section; it counts only if the section is read.
        case sectionError(MkosiError)
        /// An error whatever is read.
        case error(MkosiError)
    }

    /// The entries of the sections named in `onlySections` (all sections if empty).
    ///
    /// - Throws: the first error met in reading order.
    public static func read(_ path: String, onlySections: Set<String> = []) throws -> [Entry] {
        try entries(scan(FS.readBytes(path), path: path), onlySections: onlySections)
    }

    /// Walks `items`, returning the entries of the selected sections and throwing the first
    /// error that applies.
    public static func entries(_ items: [Item], onlySections: Set<String> = []) throws -> [Entry] {
        var result: [Entry] = []
        var current: String? = nil
        for item in items {
            switch item {
            case .section(let name, _): current = name
            case .entry(let e):
                if onlySections.isEmpty || onlySections.contains(e.section) { result.append(e) }
            case .sectionError(let e):
                if let c = current, onlySections.isEmpty || onlySections.contains(c) { throw e }
            case .error(let e): throw e
            }
        }
        return result
    }

    /// Parses `text` into an item stream (never throws: errors become items).
    public static func scan(_ text: String, path: String) -> [Item] {
        scan(Array(text.utf8), path: path)
    }

    public static func scan(_ bytes: [UInt8], path: String) -> [Item] {
        var items: [Item] = []
        var section: String? = nil
        var pending: Entry? = nil
        var pendingValue: [UInt8] = []

        func flush() {
            if var p = pending {
                p.value = String(decoding: pendingValue, as: UTF8.self)
                items.append(.entry(p))
            }
            pending = nil
        }

        for (index, rawLine) in dedent(splitLines(bytes)).enumerated() {
            let lineNumber = index + 1
            var line = rawLine[...]
            if let hash = line.firstIndex(of: UInt8(ascii: "#")) { line = line[..<hash] }
            let stripped = strip(line)
            if stripped.isEmpty { continue }

            if pending != nil, let first = line.first, isSpace(first) {
                pendingValue.append(0x0A)
                pendingValue.append(contentsOf: stripped)
                continue
            }
            flush()

            func located(_ message: String) -> MkosiError {
                MkosiError.config(message, location: "\(path):\(lineNumber)")
            }
            if stripped.first == UInt8(ascii: "[") {
                guard stripped.last == UInt8(ascii: "]") else {
                    items.append(.error(located("\(string(stripped)) is not a valid section")))
                    return items
                }
                let name = string(strip(stripped.dropFirst().dropLast()))
                if name.isEmpty {
                    items.append(.error(located("Section name cannot be empty or whitespace")))
                    return items
                }
                section = name
                items.append(.section(name: name, line: lineNumber))
                continue
            }
            guard let current = section else {
                items.append(.error(located("Setting \(string(stripped)) is located outside of section")))
                return items
            }
            guard let eq = stripped.firstIndex(of: UInt8(ascii: "=")) else {
                items.append(.sectionError(located("Setting \(string(stripped)) must be followed by '='")))
                continue
            }
            let key = strip(stripped[..<eq])
            if key.isEmpty {
                items.append(.sectionError(located("Missing setting name before '=' in \(string(stripped))")))
                continue
            }
            pending = Entry(section: current, key: string(key), value: "", line: lineNumber)
            pendingValue = Array(strip(stripped[stripped.index(after: eq)...]))
        }
        flush()
        return items
    }

    // MARK: Byte helpers

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    static func strip(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, isSpace(f) { s = s.dropFirst() }
        while let l = s.last, isSpace(l) { s = s.dropLast() }
        return s
    }

    static func string(_ s: ArraySlice<UInt8>) -> String { String(decoding: s, as: UTF8.self) }

    /// Lines split as Python's `str.splitlines()` splits them (`\n`, `\r\n`, `\r`, `\v`, `\f`,
    /// and the ASCII file/group/record separators).
    static func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C || (b >= 0x1C && b <= 0x1E) {
                lines.append(bytes[start..<i])
                if b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        return lines
    }

    /// Removes the space/tab prefix common to all non-blank lines (`textwrap.dedent`); blank
    /// lines become empty.
    static func dedent(_ lines: [ArraySlice<UInt8>]) -> [ArraySlice<UInt8>] {
        func isIndent(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        var margin: ArraySlice<UInt8>? = nil
        for line in lines where line.contains(where: { !isIndent($0) }) {
            let indent = line.prefix(while: isIndent)
            if let m = margin {
                let common = zip(m, indent).prefix(while: { $0 == $1 }).count
                margin = m.prefix(common)
            } else {
                margin = indent
            }
            if margin?.isEmpty == true { break }
        }
        let width = margin?.count ?? 0
        return lines.map { line in
            if !line.contains(where: { !isIndent($0) }) { return [] }
            return line.dropFirst(width)
        }
    }
}

extension IniFile {
    /// Compatibility helper for tests and tools: one block per section occurrence, entries of
    /// all sections. Throws the first error of any kind.
    public struct Block: Sendable {
        public var name: String
        public var line: Int
        public var entries: [Entry]
    }

    public static func parse(_ text: String, path: String) throws -> [Block] {
        var blocks: [Block] = []
        for item in scan(text, path: path) {
            switch item {
            case .section(let name, let line): blocks.append(Block(name: name, line: line, entries: []))
            case .entry(let e): blocks[blocks.count - 1].entries.append(e)
            case .sectionError(let e), .error(let e): throw e
            }
        }
        return blocks
    }
}
