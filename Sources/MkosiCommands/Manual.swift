import MkosiConfig
import MkosiCore

/// The manual as users read it: the Markdown in the resources (`docs/NAME.md`), with the parts
/// that follow from the settings table generated into it. `documentation` and the man page
/// renderer take their text from here and nowhere else.
///
/// Between `settingsBegin` and `settingsEnd` the source holds one entry per setting, each a term
/// line `` `Name=` `` followed by a definition (`:   text`, continued by lines indented four
/// spaces) that says what the setting is for. Each such term is replaced by the table's term
/// line (name and options) and the definition gets the table's facts (value, default, scope, old
/// names, well-known files, support) as its first paragraph. A setting of the table that has no
/// entry there gets one made of its table `help`, at the end of its section, so the manual always
/// lists every setting. The marker `SupportReport.manualMarker` becomes the generated list of
/// settings this implementation does not honour.
public enum Manual {
    public static let settingsBegin = "<!-- SETTINGS-BEGIN -->"
    public static let settingsEnd = "<!-- SETTINGS-END -->"

    /// The names of the manuals there are.
    public static let names = ["mkosi", "mkosi-initrd", "mkosi-sandbox", "mkosi-addon"]

    /// The final Markdown text of the manual `named`.
    public static func markdown(named name: String, resources: BuiltinResources) throws -> String {
        guard names.contains(name) else {
            throw MkosiError.usage("No manual named '\(name)'", hint: "Available: \(names.joined(separator: ", "))")
        }
        let path = try resources.path(of: "docs/\(name).md")
        guard FS.exists(path) else {
            throw MkosiError.config("The manual \(path) is missing from the built-in resources",
                                    hint: "Check $MKOSI_RESOURCES, or reinstall mkosi")
        }
        return render(try FS.readText(path))
    }

    /// Expands `source` (the manual's Markdown as written) into the manual as shown.
    public static func render(_ source: String) -> String {
        var out: [String] = []
        var lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var inSettings = false
        var documented: Set<String> = []
        var section: Section? = nil
        var i = 0

        func flushMissing() {
            guard let section else { return }
            for s in Settings.all where s.section == section && !documented.contains(s.name) {
                documented.insert(s.name)
                out += entry(s, prose: [":   " + s.help]) + [""]
            }
        }

        while i < lines.count {
            let line = lines[i]
            if line == SupportReport.manualMarker {
                out.append(SupportReport.manualSection())
                i += 1
                continue
            }
            if line == settingsBegin {
                inSettings = true
                i += 1
                continue
            }
            if line == settingsEnd {
                flushMissing()
                section = nil
                inSettings = false
                i += 1
                continue
            }
            guard inSettings else {
                out.append(line)
                i += 1
                continue
            }
            if line.hasPrefix("#") {
                flushMissing()
                section = Section.allCases.first { line.contains("[\($0.rawValue)]") }
                out.append(line)
                i += 1
                continue
            }
            if let s = settingTerm(line), i + 1 < lines.count, lines[i + 1].hasPrefix(":") {
                var prose: [String] = []
                var j = i + 1
                // The definition runs until a line that is neither blank nor indented.
                while j < lines.count, j == i + 1 || lines[j].isEmpty || lines[j].hasPrefix(" ") {
                    prose.append(lines[j])
                    j += 1
                }
                while prose.last == "" { prose.removeLast() }
                documented.insert(s.name)
                out += entry(s, prose: prose)
                if j < lines.count { out.append("") }
                i = j
                while i < lines.count && lines[i].isEmpty { i += 1 }
                continue
            }
            out.append(line)
            i += 1
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The setting a source term line `` `Name=` `` names, if it is one of the table's.
    static func settingTerm(_ line: String) -> Setting? {
        guard line.hasPrefix("`"), line.hasSuffix("=`"), line.count > 3 else { return nil }
        let name = String(line.dropFirst().dropLast(2))
        guard let s = Settings.byName[name], s.name == name else { return nil }
        return s
    }

    /// An entry: the generated term and facts, then the prose's paragraphs.
    static func entry(_ s: Setting, prose: [String]) -> [String] {
        let facts = wrap(s.manualFacts, width: 92)
        var lines = [s.manualTerm, ":   " + facts[0]] + facts.dropFirst().map { "    " + $0 } + [""]
        for (n, line) in prose.enumerated() {
            if n == 0 {
                var text = line.dropFirst()
                while text.first == " " { text = text.dropFirst() }
                lines.append("    " + text)
            } else {
                lines.append(line.isEmpty || line.hasPrefix("    ") ? line : "    " + line.drop { $0 == " " })
            }
        }
        return lines
    }

    /// `text` in lines of at most `width` characters, broken at spaces.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        lines.append(line)
        return lines
    }
}
