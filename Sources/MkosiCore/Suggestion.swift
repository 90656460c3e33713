/// "Did you mean …?" for a misspelled name: the candidate closest to it by edit distance.
public enum Suggestion {
    /// The optimal-string-alignment distance between `a` and `b`: insertions, deletions,
    /// substitutions and transpositions of adjacent characters each cost 1. Letters are compared
    /// ignoring case, and `-`/`_` are taken as equal, so `packages` is 0 from `Packages`.
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = normalized(a), y = normalized(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var before = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d = min(d, before[j - 2] + 1) }
                current[j] = d
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[y.count]
    }

    /// The largest distance at which a candidate still counts as meant: a third of the name's
    /// length, at least 1 and at most 3 (`nme` → `name`, `biuld` → `build`, `Contnet` → `Content`).
    public static func threshold(for name: String) -> Int {
        max(1, min(3, name.count / 3))
    }

    /// The candidate nearest to `name` within `threshold(for:)`, the first of equally near ones;
    /// nil when none is near or when `name` is itself a candidate.
    public static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        var best: (String, Int)? = nil
        let limit = threshold(for: name)
        for candidate in candidates {
            if candidate == name { return nil }
            let d = distance(name, candidate)
            if d <= limit && d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        return best?.0
    }

    /// ` (did you mean X?)` for appending to a message, or the empty string without a suggestion.
    public static func hint(for name: String, among candidates: some Sequence<String>) -> String {
        closest(to: name, among: candidates).map { " (did you mean \($0)?)" } ?? ""
    }

    static func normalized(_ s: String) -> [Character] {
        s.lowercased().map { $0 == "_" ? "-" : $0 }
    }
}
