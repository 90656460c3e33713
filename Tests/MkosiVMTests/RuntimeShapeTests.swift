#if canImport(Glibc)
import Glibc
#endif
import MkosiCore
import Testing

/// The runtime's shape, as issue 19 set it, kept by tests: MkosiVM imports no build code, no
/// function in it is longer than 60 lines, and only qemu's renderer spells qemu's options.
struct RuntimeShapeTests {
    /// Sources/MkosiVM, found from this file's path.
    static let runtimeDirectory: String = {
        var path = #filePath
        for _ in 0..<3 { path = Path.dirname(path) }
        return path + "/Sources/MkosiVM"
    }()

    static func sources() throws -> [(name: String, text: String)] {
        try FS.listDirectory(runtimeDirectory).filter { $0.hasSuffix(".swift") }.sorted().map { name in
            (name, try FS.readText(runtimeDirectory + "/" + name))
        }
    }

    /// The lines of `text` with string literals and comments blanked, so braces in them do not count.
    static func code(_ text: String) -> [String] {
        var lines: [String] = []
        var inMultiline = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var out = ""
            var chars = Array(line)[...]
            var inString = false
            while let c = chars.first {
                if inMultiline {
                    if chars.starts(with: "\"\"\"") { inMultiline = false; chars = chars.dropFirst(3) } else { chars = chars.dropFirst() }
                    continue
                }
                if inString {
                    if c == "\\" { chars = chars.dropFirst(2); continue }
                    if c == "\"" { inString = false }
                    chars = chars.dropFirst()
                    continue
                }
                if chars.starts(with: "\"\"\"") { inMultiline = true; chars = chars.dropFirst(3); continue }
                if chars.starts(with: "//") { break }
                if c == "\"" { inString = true }
                out.append(c)
                chars = chars.dropFirst()
            }
            lines.append(out)
        }
        return lines
    }

    /// Each function (`func`, `init`) of `text` with its length in lines, from its declaration
    /// to its closing brace.
    static func functionLengths(_ text: String) -> [(name: String, lines: Int)] {
        let lines = code(text)
        var result: [(String, Int)] = []
        var i = 0
        while i < lines.count {
            let words = lines[i].split(separator: " ")
            guard let at = words.firstIndex(where: { $0 == "func" || $0.hasPrefix("init(") || $0.hasPrefix("init<") }) else {
                i += 1
                continue
            }
            let name = words[at] == "func" && at + 1 < words.count ? String(words[at + 1].prefix { $0 != "(" && $0 != "<" })
                : "init"
            var depth = 0, opened = false, j = i
            scan: while j < lines.count {
                for c in lines[j] {
                    if c == "{" { depth += 1; opened = true }
                    if c == "}" { depth -= 1 }
                    if opened && depth == 0 { break scan }
                }
                // A protocol requirement: no body.
                if !opened && j > i && lines[j].contains("func ") { break }
                j += 1
            }
            if opened { result.append((name, j - i + 1)) }
            i += 1
        }
        return result
    }

    @Test func theMeasureCountsAFunctionFromItsDeclarationToItsClosingBrace() {
        let text = "struct S {\n    func f() {\n        let s = \"}\"\n        if x {\n        }\n    }\n    init() { }\n}\n"
        let lengths = Self.functionLengths(text)
        #expect(lengths.map(\.name) == ["f", "init"])
        #expect(lengths.map(\.lines) == [5, 1])
    }

    @Test func noRuntimeFunctionIsLongerThan60Lines() throws {
        var long: [String] = []
        for (name, text) in try Self.sources() {
            for f in Self.functionLengths(text) where f.lines > 60 { long.append("\(name): \(f.name) (\(f.lines) lines)") }
        }
        #expect(long.isEmpty, "functions longer than 60 lines: \(long.joined(separator: ", "))")
    }

    @Test func theRuntimeImportsNoBuildCode() throws {
        let importing = try Self.sources().filter { $0.text.split(separator: "\n").contains { $0 == "import MkosiBuild" } }
        #expect(importing.isEmpty, "import MkosiBuild in \(importing.map(\.name))")
    }
}

extension RuntimeShapeTests {
    /// qemu's options are spelled in qemu's renderer (QemuMonitor*.swift) and nowhere else.
    @Test func onlyQemusRendererKnowsQemusOptions() throws {
        let options = ["\"-machine\"", "\"-smp\"", "\"-drive\"", "\"-device\"", "\"-chardev\"", "\"-smbios\"", "\"-kernel\"",
                       "\"-append\"", "\"-nographic\"", "\"-nic\"", "\"-accel\"", "\"-object\"", "\"-initrd\""]
        var elsewhere: [String] = []
        for (name, text) in try Self.sources() where !name.hasPrefix("QemuMonitor") {
            for option in options where text.contains(option) { elsewhere.append("\(name): \(option)") }
        }
        #expect(elsewhere.isEmpty, "qemu options outside QemuMonitor: \(elsewhere.joined(separator: ", "))")
        let renderer = try Self.sources().filter { $0.name.hasPrefix("QemuMonitor") }.map(\.text).joined()
        #expect(renderer.contains("\"-machine\"") && renderer.contains("\"-smbios\""), "QemuMonitor no longer renders qemu's options?")
    }
}
