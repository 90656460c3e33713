import MkosiCore

/// mkosi's INI dialect.
///
/// - `#` starts a comment anywhere on a line (so values cannot contain `#`); `;` does not.
/// - The whole file is dedented first; blank lines are skipped.
/// - `[Section]` starts a section. `Key=Value` has both sides stripped; an indented line after
///   a setting continues its value (joined with a newline).
/// - Keys may repeat; every occurrence is returned, in order.
/// - A section line without `]`, an empty section name, a setting outside any section, a line
///   without `=` and a missing key are errors naming the file and line.
public enum IniFile {
    public struct Entry: Equatable, Sendable {
        public var section: String
        public var key: String
        public var value: String
        /// 1-based line number of the key.
        public var line: Int
    }

    /// One `[Section]` occurrence with its entries.
    public struct Block: Sendable {
        public var name: String
        public var line: Int
        public var entries: [Entry]
    }

    /// The entries of the sections named in `onlySections` (all sections if empty).
    public static func read(_ path: String, onlySections: Set<String> = []) throws -> [Entry] {
        try parse(FS.readText(path), path: path, onlySections: onlySections).flatMap(\.entries)
    }

    /// Parses `text` into section blocks. Sections outside `onlySections` are returned with no
    /// entries (their lines are not checked for `=`), as upstream does.
    public static func parse(_ text: String, path: String, onlySections: Set<String> = []) throws -> [Block] {
        var blocks: [Block] = []
        var pending: Entry? = nil

        func flush() {
            if let p = pending, !blocks.isEmpty { blocks[blocks.count - 1].entries.append(p) }
            pending = nil
        }

        for (index, rawLine) in dedent(splitLines(text)).enumerated() {
            let lineNumber = index + 1
            var line = rawLine
            if let hash = line.firstIndex(of: "#") { line = String(line[..<hash]) }
            let stripped = line.trimmed()
            if stripped.isEmpty { continue }

            if pending != nil, let first = line.first, first.isWhitespace {
                pending!.value += "\n" + stripped
                continue
            }
            flush()

            let location = "\(path):\(lineNumber)"
            if stripped.hasPrefix("[") {
                guard stripped.hasSuffix("]") else {
                    throw MkosiError.config("\(stripped) is not a valid section", location: location)
                }
                let name = String(stripped.dropFirst().dropLast()).trimmed()
                if name.isEmpty {
                    throw MkosiError.config("Section name cannot be empty or whitespace", location: location)
                }
                blocks.append(Block(name: name, line: lineNumber, entries: []))
                continue
            }
            guard let current = blocks.last else {
                throw MkosiError.config("Setting \(stripped) is located outside of section", location: location)
            }
            if !onlySections.isEmpty && !onlySections.contains(current.name) { continue }
            let (key, hasEquals, value) = stripped.partition("=")
            guard hasEquals else {
                throw MkosiError.config("Setting \(key) must be followed by '='", location: location)
            }
            if key.isEmpty {
                throw MkosiError.config("Missing setting name before '=' in \(stripped)", location: location)
            }
            pending = Entry(section: current.name, key: key.trimmed(), value: value.trimmed(), line: lineNumber)
        }
        flush()
        return blocks
    }

    /// Lines split as Python's `str.splitlines()` splits them on `\n`, `\r\n` and `\r`.
    static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for c in text {
            if c == "\n" || c == "\r\n" || c == "\r" {
                lines.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// Removes the whitespace prefix common to all non-blank lines (`textwrap.dedent`); blank
    /// lines become empty.
    static func dedent(_ lines: [String]) -> [String] {
        var margin: Substring? = nil
        for line in lines {
            guard line.contains(where: { !($0 == " " || $0 == "\t") }) else { continue }
            let indent = line.prefix(while: { $0 == " " || $0 == "\t" })
            if let m = margin {
                var common = m.startIndex
                var i = indent.startIndex
                while common < m.endIndex && i < indent.endIndex && m[common] == indent[i] {
                    common = m.index(after: common)
                    i = indent.index(after: i)
                }
                margin = m[m.startIndex..<common]
            } else {
                margin = indent
            }
        }
        let width = margin?.count ?? 0
        return lines.map { line in
            if !line.contains(where: { !($0 == " " || $0 == "\t") }) { return "" }
            return width > 0 ? String(line.dropFirst(width)) : line
        }
    }
}
