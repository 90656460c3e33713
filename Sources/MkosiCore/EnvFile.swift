/// Files of `KEY=value` lines, as os-release(5) describes them: blank lines and `#` comments are
/// skipped, a value may be quoted with `"` or `'` (the quotes are removed, and within double
/// quotes a backslash escapes `"`, `\`, `$` and `` ` ``), and a later assignment wins.
public enum EnvFile {
    /// The assignments of `text`, in the order of their first appearance.
    public static func parse(_ text: String) -> [(key: String, value: String)] {
        var order: [String] = []
        var values: [String: String] = [:]
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw).stripping(" \t\r")
            guard !line.isEmpty, !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]).stripping(" \t")
            guard !key.isEmpty else { continue }
            let value = unquote(String(line[line.index(after: eq)...]).stripping(" \t"))
            if values[key] == nil { order.append(key) }
            values[key] = value
        }
        return order.map { ($0, values[$0]!) }
    }

    /// The assignments of `text` by key.
    public static func dictionary(_ text: String) -> [String: String] {
        Dictionary(parse(text).map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    static func unquote(_ value: String) -> String {
        guard let q = value.first, q == "\"" || q == "'", value.count >= 2, value.last == q else { return value }
        let inner = value.dropFirst().dropLast()
        guard q == "\"" else { return String(inner) }
        var out = "", escaped = false
        for c in inner {
            if escaped {
                if !"\"\\$`".contains(c) { out.append("\\") }
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        if escaped { out.append("\\") }
        return out
    }
}

private extension String {
    func stripping(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
