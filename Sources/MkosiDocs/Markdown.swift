/// The blocks of the Markdown our manuals are written in: ATX headings, paragraphs, fenced code
/// blocks, bullet and ordered lists, definition lists (a term line followed by `: text`, as
/// pandoc reads them), pipe tables and HTML comments (dropped). A pandoc title block (`%` lines
/// at the very start) is dropped too. Anything else is read as a paragraph, so no input is lost.
public indirect enum MarkdownBlock: Equatable, Sendable {
    case heading(level: Int, text: String)
    /// The paragraph's lines joined with `\n`, each without its leading white space.
    case paragraph(String)
    /// The lines of a fenced code block, as written (less the fence's indentation).
    case code([String])
    /// The items of a list, each a sequence of blocks.
    case list(ordered: Bool, items: [[MarkdownBlock]])
    case definition(term: String, body: [MarkdownBlock])
    case table(header: [String], rows: [[String]])

    /// Parses `text` into blocks.
    public static func parse(_ text: String) -> [MarkdownBlock] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var s = String(line)
            if s.hasSuffix("\r") { s.removeLast() }
            return s.contains("\t") ? expandTabs(s) : s
        }
        // A pandoc title block: `%` lines before anything else.
        while let first = lines.first, first.hasPrefix("%") { lines.removeFirst() }
        var parser = BlockParser(lines: lines)
        return parser.blocks()
    }

    static func expandTabs(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "\t" {
                repeat { out.append(" ") } while out.count % 4 != 0
            } else {
                out.append(c)
            }
        }
        return out
    }
}

/// Leading spaces of `line`.
func indentation(_ line: String) -> Int { line.prefix(while: { $0 == " " }).count }

func isBlank(_ line: String) -> Bool { line.allSatisfy { $0 == " " } }

struct BlockParser {
    let lines: [String]
    var i = 0

    init(lines: [String]) { self.lines = lines }

    mutating func blocks() -> [MarkdownBlock] {
        var out: [MarkdownBlock] = []
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.drop(while: { $0 == " " })
            if isBlank(line) {
                i += 1
            } else if trimmed.hasPrefix("<!--") {
                while i < lines.count && !lines[i].contains("-->") { i += 1 }
                i += 1
            } else if let fence = Self.fence(line) {
                out.append(code(fence))
            } else if let h = Self.heading(line) {
                out.append(.heading(level: h.level, text: h.text))
                i += 1
            } else if isTableStart(i) {
                out.append(table())
            } else if Self.listMarker(line) != nil {
                out.append(list())
            } else if i + 1 < lines.count, Self.definitionMarker(lines[i + 1]) != nil {
                out.append(definition())
            } else {
                out.append(paragraph())
            }
        }
        return out
    }

    // MARK: Recognisers

    /// An opening code fence: its indentation, character and length.
    static func fence(_ line: String) -> (indent: Int, char: Character, count: Int)? {
        let indent = indentation(line)
        guard indent < 4 else { return nil }
        let rest = line.dropFirst(indent)
        guard let c = rest.first, c == "`" || c == "~" else { return nil }
        let n = rest.prefix(while: { $0 == c }).count
        guard n >= 3 else { return nil }
        if c == "`" && rest.dropFirst(n).contains("`") { return nil }
        return (indent, c, n)
    }

    static func heading(_ line: String) -> (level: Int, text: String)? {
        guard indentation(line) < 4 else { return nil }
        let rest = line.drop(while: { $0 == " " })
        let level = rest.prefix(while: { $0 == "#" }).count
        guard (1...6).contains(level) else { return nil }
        let after = rest.dropFirst(level)
        guard after.isEmpty || after.first == " " else { return nil }
        var text = after.trimmingSpaces()
        // A closing sequence of #s preceded by a space is not part of the heading.
        let closing = text.reversed().prefix(while: { $0 == "#" }).count
        if closing > 0 {
            let cut = text.dropLast(closing)
            if cut.isEmpty || cut.last == " " { text = String(cut).trimmingSpaces() }
        }
        return (level, text)
    }

    /// A list item's marker: whether it is ordered, its indentation and where its text starts.
    static func listMarker(_ line: String) -> (ordered: Bool, indent: Int, content: Int)? {
        let indent = indentation(line)
        let rest = Array(line.dropFirst(indent))
        guard let c = rest.first else { return nil }
        var markerEnd: Int
        var ordered = false
        if c == "-" || c == "*" || c == "+" {
            markerEnd = 1
        } else if c.isASCII && c.isNumber {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber }).count
            guard digits <= 9, digits < rest.count, rest[digits] == "." || rest[digits] == ")" else { return nil }
            markerEnd = digits + 1
            ordered = true
        } else {
            return nil
        }
        guard markerEnd < rest.count, rest[markerEnd] == " " else { return nil }
        // `---`-like rules are not list items; a `*` run (`* * *`) neither.
        let spaces = rest.dropFirst(markerEnd).prefix(while: { $0 == " " }).count
        guard markerEnd + spaces < rest.count else { return nil }
        let content = spaces > 4 ? markerEnd + 1 : markerEnd + spaces
        return (ordered, indent, indent + content)
    }

    /// A definition's `:` marker (up to 3 spaces in, then at least one space): where its text starts.
    static func definitionMarker(_ line: String) -> Int? {
        let indent = indentation(line)
        guard indent < 4 else { return nil }
        let rest = line.dropFirst(indent)
        guard rest.first == ":" || rest.first == "~" else { return nil }
        let spaces = rest.dropFirst().prefix(while: { $0 == " " }).count
        guard spaces >= 1, rest.count > 1 + spaces else { return nil }
        return indent + 1 + spaces
    }

    static func isTableRow(_ line: String) -> Bool {
        line.drop(while: { $0 == " " }).hasPrefix("|")
    }

    static func isTableSeparator(_ line: String) -> Bool {
        let cells = splitRow(line)
        return !cells.isEmpty && cells.allSatisfy { cell in
            let c = cell.trimmingSpaces()
            return c.contains("-") && c.allSatisfy { $0 == "-" || $0 == ":" }
        }
    }

    func isTableStart(_ at: Int) -> Bool {
        at + 1 < lines.count && Self.isTableRow(lines[at]) && Self.isTableSeparator(lines[at + 1])
    }

    /// Whether `line` starts a block other than a paragraph (so it ends a paragraph).
    func interrupts(_ at: Int) -> Bool {
        let line = lines[at]
        if isBlank(line) || Self.fence(line) != nil || Self.heading(line) != nil || isTableStart(at) { return true }
        if line.drop(while: { $0 == " " }).hasPrefix("<!--") { return true }
        if let m = Self.listMarker(line) { return !m.ordered || line.dropFirst(m.indent).hasPrefix("1") }
        return false
    }

    // MARK: Blocks

    mutating func code(_ fence: (indent: Int, char: Character, count: Int)) -> MarkdownBlock {
        i += 1
        var body: [String] = []
        while i < lines.count {
            let line = lines[i]
            let t = line.drop(while: { $0 == " " })
            if indentation(line) < 4 && t.prefix(while: { $0 == fence.char }).count >= fence.count
                && t.drop(while: { $0 == fence.char }).allSatisfy({ $0 == " " }) {
                i += 1
                break
            }
            body.append(String(line.dropFirst(min(fence.indent, indentation(line)))))
            i += 1
        }
        return .code(body)
    }

    mutating func paragraph() -> MarkdownBlock {
        var text: [String] = [lines[i].trimmingSpaces()]
        i += 1
        while i < lines.count && !interrupts(i) {
            // The last line before a `:` line is a definition's term, not part of this paragraph.
            if i + 1 < lines.count, Self.definitionMarker(lines[i + 1]) != nil { break }
            text.append(lines[i].trimmingSpaces())
            i += 1
        }
        return .paragraph(text.joined(separator: "\n"))
    }

    mutating func table() -> MarkdownBlock {
        let header = Self.splitRow(lines[i]).map { $0.trimmingSpaces() }
        i += 2
        var rows: [[String]] = []
        while i < lines.count && Self.isTableRow(lines[i]) {
            var row = Self.splitRow(lines[i]).map { $0.trimmingSpaces() }
            if row.count < header.count { row += Array(repeating: "", count: header.count - row.count) }
            rows.append(Array(row.prefix(header.count)))
            i += 1
        }
        return .table(header: header, rows: rows)
    }

    /// The cells of a `| a | b |` row; `\|` is a literal bar (kept escaped for the inline pass),
    /// and so is a bar inside a code span.
    static func splitRow(_ line: String) -> [String] {
        var s = Substring(line.trimmingSpaces())
        if s.hasPrefix("|") { s = s.dropFirst() }
        var cells: [String] = []
        var cell = ""
        var escaped = false
        var ticks = 0
        var chars = Array(s)
        if chars.last == "|" && !(chars.count >= 2 && chars[chars.count - 2] == "\\") { chars.removeLast() }
        var k = 0
        while k < chars.count {
            let c = chars[k]
            if escaped {
                // `\|` is a bar in the cell; inside a code span it loses its backslash.
                if c == "|" && ticks > 0 { cell.removeLast() }
                cell.append(c)
                escaped = false
            } else if c == "\\" {
                cell.append(c)
                escaped = true
            } else if c == "`" {
                let run = chars[k...].prefix(while: { $0 == "`" }).count
                ticks = ticks == 0 ? run : (ticks == run ? 0 : ticks)
                cell += String(repeating: "`", count: run)
                k += run
                continue
            } else if c == "|" && ticks == 0 {
                cells.append(cell)
                cell = ""
            } else if c == "|" {
                cell += "\\|"
            } else {
                cell.append(c)
            }
            k += 1
        }
        cells.append(cell)
        return cells
    }

    /// A list: consecutive items of the same kind. Each item's body is its text and the lines
    /// indented below it (blank lines inside included), parsed again as blocks.
    mutating func list() -> MarkdownBlock {
        let first = Self.listMarker(lines[i])!
        var items: [[MarkdownBlock]] = []
        while i < lines.count, let m = Self.listMarker(lines[i]), m.ordered == first.ordered,
              m.indent < first.content {
            var body = [String(lines[i].dropFirst(m.content))]
            i += 1
            body += continuation(content: m.content, startsNew: { p, k in
                if let n = Self.listMarker(p.lines[k]), n.indent < m.content { return true }
                return p.interrupts(k)
            })
            var sub = BlockParser(lines: body)
            items.append(sub.blocks())
            // A blank line followed by another item continues the list.
            var k = i
            while k < lines.count && isBlank(lines[k]) { k += 1 }
            if k < lines.count, let n = Self.listMarker(lines[k]), n.ordered == first.ordered, n.indent < first.content {
                i = k
            } else {
                break
            }
        }
        return .list(ordered: first.ordered, items: items)
    }

    mutating func definition() -> MarkdownBlock {
        let term = lines[i].trimmingSpaces()
        i += 1
        var body: [String] = []
        while i < lines.count, let content = Self.definitionMarker(lines[i]) {
            if !body.isEmpty { body.append("") }
            body.append(String(lines[i].dropFirst(content)))
            i += 1
            body += continuation(content: content, startsNew: { p, k in
                Self.definitionMarker(p.lines[k]) != nil || p.interrupts(k)
                    || (k + 1 < p.lines.count && Self.definitionMarker(p.lines[k + 1]) != nil)
            })
        }
        var sub = BlockParser(lines: body)
        return .definition(term: term, body: sub.blocks())
    }

    /// The lines that continue an item whose text starts at column `content`: indented lines
    /// (less up to `content` spaces), blank lines followed by an indented line, and unindented
    /// lines right after text (lazy continuation) unless `startsNew` says they begin a block.
    mutating func continuation(content: Int, startsNew: (BlockParser, Int) -> Bool) -> [String] {
        var body: [String] = []
        var inFence: (indent: Int, char: Character, count: Int)? = nil
        while i < lines.count {
            let line = lines[i]
            if isBlank(line) {
                var k = i
                while k < lines.count && isBlank(lines[k]) { k += 1 }
                guard inFence != nil || (k < lines.count && indentation(lines[k]) >= min(content, 2)
                                         && indentation(lines[k]) > 0) else { break }
                body += Array(repeating: "", count: k - i)
                i = k
                continue
            }
            let indent = indentation(line)
            if inFence != nil || (indent > 0 && indent >= min(content, 2)) {
                let stripped = String(line.dropFirst(min(indent, content)))
                if let f = inFence {
                    let t = stripped.drop(while: { $0 == " " })
                    if t.prefix(while: { $0 == f.char }).count >= f.count && t.drop(while: { $0 == f.char }).isEmpty {
                        inFence = nil
                    }
                } else if let f = Self.fence(stripped) {
                    inFence = f
                }
                body.append(stripped)
                i += 1
                continue
            }
            // Lazy continuation of the paragraph just before.
            if inFence == nil, let last = body.last, !isBlank(last), !startsNew(self, i) {
                body.append(line)
                i += 1
                continue
            }
            if inFence == nil, body.isEmpty, !startsNew(self, i) {
                body.append(line)
                i += 1
                continue
            }
            break
        }
        return body
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        return String(s)
    }
}
