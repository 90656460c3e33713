import MkosiCore

/// `[Match]` comparisons of a condition against a setting's final value.
public enum Matching {
    public static func match(_ matcher: Matcher, condition: String, value: Value) throws -> Bool {
        switch matcher {
        case .listContains(let item):
            let list = value.list ?? []
            if condition.isEmpty { return list.isEmpty }
            let parsed = try ListParser.parseItem(condition, item, env: ParseEnvironment(cwd: "/"))
            return list.contains(parsed)
        case .enumeration(let e):
            return try e.parse(condition) == value.string
        case .architecture:
            if condition == "uefi" {
                return Architecture(rawValue: value.string ?? "")?.efiName != nil
            }
            return try ConfigEnum.architecture.parse(condition) == value.string
        case .string:
            return condition == value.string
        case .glob:
            return Glob.fnmatch(condition, value.string ?? "")
        case .version:
            return compareVersion(condition, value.string ?? "")
        case .feature:
            return try ValueParser.parseFeature(condition) == value.string
        case .buildSources:
            let wanted = Path.normalize(String(condition.drop(while: { $0 == "/" })))
            return value.trees.contains { $0.target.map(Path.normalize) == wanted }
        case .keyValue:
            let dict = value.dict ?? OrderedDict()
            let (key, hasValue, expected) = condition.partition("=")
            return hasValue ? dict[key] == expected : dict[key] != nil
        }
    }

    /// `condition` is a version with an optional leading operator (`==`, `!=`, `<`, `<=`, `>`,
    /// `>=`; default `==`), compared against `version`.
    public static func compareVersion(_ condition: String, _ version: String) -> Bool {
        let operators: [(String, (Int) -> Bool)] = [
            ("==", { $0 == 0 }), ("!=", { $0 != 0 }), ("<=", { $0 <= 0 }), (">=", { $0 >= 0 }),
            (">", { $0 > 0 }), ("<", { $0 < 0 }),
        ]
        for (sigil, test) in operators where condition.hasPrefix(sigil) {
            return test(Version.compare(version, String(condition.dropFirst(sigil.count))))
        }
        return Version.compare(version, condition) == 0
    }

    /// `SystemdVersion=`: compares against `systemctl --version` of the host.
    static func systemdVersion(_ condition: String) throws -> Bool {
        guard !condition.isEmpty else { return false }
        let output = try HostCommand.capture(["systemctl", "--version"]).output
        let words = output.split(whereSeparator: { $0.isWhitespace })
        guard words.count > 1 else {
            throw MkosiError(.invalidData, "Cannot read the systemd version from 'systemctl --version'")
        }
        return compareVersion(condition, String(words[1]))
    }
}
