import Foundation
@testable import MkosiCommands
@testable import MkosiConfig
import MkosiCore
import Testing

/// The manual as `documentation` shows it must describe exactly what the code has: one entry per
/// setting, verb and option, nothing claimed unimplemented that is implemented, and no prose
/// too long to read.
@Suite struct ManualTests {
    /// The manual rendered from the embedded resources (what users get).
    static let manual: String = {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-manual-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        return try! Manual.markdown(named: "mkosi", resources: BuiltinResources(override: nil, cacheBase: home))
    }()

    static var lines: [String] { manual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    /// Definition-list terms: a line followed by a `:` definition line.
    static var terms: [String] {
        let lines = Self.lines
        return lines.indices.dropLast().filter { !lines[$0].isEmpty && lines[$0 + 1].hasPrefix(":") }.map { lines[$0] }
    }

    /// The lines of the level-2 section headed `title`.
    static func section(_ title: String) -> [String] {
        let lines = Self.lines
        guard let start = lines.firstIndex(of: "## \(title)") else { return [] }
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("## ") } ?? lines.count
        return Array(lines[start..<end])
    }

    @Test func everySettingHasExactlyOneEntry() {
        let terms = Self.terms
        for s in Settings.all {
            let count = terms.filter { $0.hasPrefix("`\(s.name)=`,") }.count
            #expect(count == 1, "\(s.name)= has \(count) entries in the manual")
            #expect(terms.contains(s.manualTerm), "\(s.name)= lacks its generated term line")
        }
    }

    @Test func everySettingHasHandWrittenProse() {
        // The fallback from the table's help text is for a setting added without an entry.
        let source = BuiltinResourceFiles.files.first { $0.path == "docs/mkosi.md" }!.contents
        let sourceLines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let begin = sourceLines.firstIndex(of: Manual.settingsBegin),
              let end = sourceLines.firstIndex(of: Manual.settingsEnd) else {
            Issue.record("the manual has no settings markers")
            return
        }
        let region = Array(sourceLines[begin..<end])
        let written = region.indices.dropLast().filter { region[$0 + 1].hasPrefix(":") }.map { region[$0] }
        for s in Settings.all {
            #expect(written.filter { $0 == "`\(s.name)=`" }.count == 1, "Resources/docs/mkosi.md has no entry `\(s.name)=`")
        }
        for term in written {
            #expect(Manual.settingTerm(term) != nil, "\(term) in the settings part of the manual is no setting")
        }
    }

    @Test func settingsAreInTheirSection() {
        let lines = Self.lines
        var section: Section? = nil
        for (n, line) in lines.enumerated() {
            if line.hasPrefix("### ") { section = Section.allCases.first { line == "### [\($0.rawValue)] section" } }
            guard n + 1 < lines.count, lines[n + 1].hasPrefix(":"), line.hasPrefix("`"),
                  let name = line.split(separator: "`").first.map({ String($0.dropLast()) }),
                  let s = Settings.byName[name], s.name == name, line == s.manualTerm else { continue }
            #expect(section == s.section, "\(name)= is listed outside [\(s.section.rawValue)]")
        }
    }

    @Test func everyVerbHasAnEntry() {
        let verbs = Self.section("COMMAND LINE VERBS")
        for verb in Verb.allCases {
            let term = "`\(verb.rawValue)`"
            #expect(verbs.indices.dropLast().contains { verbs[$0] == term && verbs[$0 + 1].hasPrefix(":") },
                    "the verb \(verb.rawValue) has no entry in COMMAND LINE VERBS")
        }
    }

    @Test func everyOptionHasAnEntry() {
        let terms = Self.terms
        let options = Array(CommandLineParser.globalOptions.keys) + Settings.all.flatMap { [$0.long] + ($0.short.map { [$0] } ?? []) }
        for option in options {
            let spelled = ["`\(option)`", "`\(option)=`", "`\(option)[=BOOL]`"]
            #expect(terms.contains { term in spelled.contains { term.contains($0) } }, "the option \(option) has no entry")
        }
        for s in Settings.all {
            for old in s.compatLongs {
                #expect(Self.manual.contains("`\(old)`"), "the old option \(old) of \(s.name)= is not named")
            }
        }
    }

    @Test func noProseIsTooLong() {
        var paragraph = ""
        var inCode = false
        func check() {
            #expect(paragraph.count <= 1500, "a paragraph of \(paragraph.count) characters: \(paragraph.prefix(120))…")
            paragraph = ""
        }
        for line in Self.lines {
            if line.hasPrefix("```") { inCode.toggle() }
            if line.hasPrefix("|") {
                for cell in line.split(separator: "|") {
                    #expect(cell.count <= 1500, "a table cell of \(cell.count) characters: \(cell.prefix(120))…")
                }
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // A list item is a paragraph of its own.
            let item = trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ")
                || trimmed.split(separator: " ").first.map { $0.hasSuffix(".") && $0.dropLast().allSatisfy(\.isNumber) && $0.count > 1 } == true
            if trimmed.isEmpty || inCode || item { check() }
            if !trimmed.isEmpty && !inCode { paragraph += line + "\n" }
        }
        check()
    }

    @Test func noImplementedVerbIsClaimedMissing() {
        let sentences = Self.manual.replacingOccurrences(of: "\n", with: " ").split(separator: ".").map(String.init)
        let claims = ["not implemented", "do not work", "does not work", "not work yet", "no effect until"]
        for sentence in sentences where claims.contains(where: { sentence.lowercased().contains($0) }) {
            for verb in Mkosi.implementedVerbs where sentence.contains("`\(verb.rawValue)`") || sentence.contains("'\(verb.rawValue)'") {
                Issue.record("the manual claims the implemented verb \(verb.rawValue) does not work: \(sentence)")
            }
            #expect(!sentence.contains("verb"), "the manual claims a verb does not work: \(sentence)")
        }
        #expect(!Self.manual.contains("../" + "shared"), "the manual names the team's reading folder")
    }

    @Test func generatedFactsFollowTheTable() {
        let distribution = Settings.byName["Distribution"]!
        #expect(distribution.manualTerm == "`Distribution=`, `--distribution=`, `-d`")
        #expect(distribution.manualFacts.contains("*Scope:* universal"))
        #expect(distribution.manualFacts.contains("*Specifier:* `%d`"))
        let checksum = Settings.byName["Checksum"]!
        #expect(checksum.manualTerm.contains("`--checksum[=BOOL]`"))
        let incremental = Settings.byName["Incremental"]!
        #expect(incremental.manualFacts.contains("`-i` alone means `--incremental=yes`"))
        let bootable = Settings.byName["Bootable"]!
        #expect(bootable.manualDefault == "`auto`")
        let cpus = Settings.byName["CPUs"]!
        #expect(cpus.manualFacts.contains("`QemuSmp=`"))
        #expect(Settings.byName["ForeignUIDRange"]!.manualSupport.contains("stops the build"))
        #expect(Settings.byName["Packages"]!.manualDefault == "none")
        #expect(Settings.byName["RAM"]!.manualDefault == "`2G`")
        #expect(Settings.byName["VSockCID"]!.manualDefault == "`auto`")
        for s in Settings.all {
            #expect(!s.manualDefault.isEmpty && !s.manualDefault.contains("``"), "\(s.name)= has the default \(s.manualDefault)")
        }
    }

    @Test func everyConditionAndWellKnownFileIsListed() {
        let lines = Self.lines
        let start = lines.firstIndex { $0.hasPrefix("### [Match]") } ?? 0
        let end = lines[start...].firstIndex { $0.hasPrefix("### [UKIProfile]") } ?? lines.count
        let conditions = lines[start..<end].joined(separator: "\n")
        for s in Settings.all where s.matcher != nil {
            #expect(conditions.contains("`\(s.name)=`"), "the [Match] section does not list \(s.name)=")
        }
        let files = Self.section("FILES").joined(separator: "\n")
        for s in Settings.all {
            for suffix in s.pathSuffixes + s.globSuffixes {
                #expect(files.contains("mkosi.\(suffix)"), "FILES does not list mkosi.\(suffix) (\(s.name)=)")
            }
        }
    }

    @Test func markersAreReplaced() {
        #expect(!Self.manual.contains(Manual.settingsBegin))
        #expect(!Self.manual.contains(Manual.settingsEnd))
        #expect(!Self.manual.contains(SupportReport.manualMarker))
        #expect(throws: MkosiError.self) { try Manual.markdown(named: "nonsense", resources: BuiltinResources(override: "/nonexistent")) }
    }
}
