import MkosiCore

/// The real names a misspelled one is compared with, for "did you mean …?" (see `Suggestion`).
public enum NameSuggestions {
    /// Sections a configuration file may have: those of the settings, `[Host]` (old), and the
    /// match and assert sections.
    public static let knownSections: Set<String> =
        Set(Section.allCases.map(\.rawValue) + ["Host", "Match", "TriggerMatch", "Assert", "TriggerAssert"])

    /// ` (did you mean NAME?)` for an unknown setting name: the nearest of every setting's name
    /// and old names, given as the setting's current name.
    public static func setting(_ name: String, among settings: [Setting] = Settings.all) -> String {
        let names = settings.flatMap { [$0.name] + $0.compatNames }
        guard let near = Suggestion.closest(to: name, among: names),
              let s = settings.first(where: { $0.name == near || $0.compatNames.contains(near) }) else { return "" }
        return " (did you mean \(s.name)?)"
    }

    /// ` (did you mean [SECTION]?)` for an unknown section.
    public static func section(_ name: String) -> String {
        let order = Section.allCases.map(\.rawValue) + ["Match", "TriggerMatch", "Assert", "TriggerAssert", "Host"]
        return Suggestion.closest(to: name, among: order).map { " (did you mean [\($0)]?)" } ?? ""
    }

    /// ` (did you mean VERB?)` for an unknown verb.
    public static func verb(_ word: String) -> String {
        Suggestion.hint(for: word, among: Verb.allCases.map(\.rawValue))
    }

    /// The long option meant by an unknown command-line word (`--pacakge` or `--pacakge=vim`):
    /// the nearest long option of the parser, old option names given as the current one.
    public static func option(_ word: String) -> String? {
        guard word.hasPrefix("--") else { return nil }
        let name = String(word.prefix(while: { $0 != "=" }))
        let longs = CommandLineParser.actions.keys.filter { $0.hasPrefix("--") }.sorted()
        guard let near = Suggestion.closest(to: name, among: longs) else { return nil }
        return Settings.byOption[near]?.long ?? near
    }
}
