/// Splits a string into words with POSIX shell quoting, as Python's `shlex` does in POSIX mode
/// with `whitespace_split` and no comment characters.
///
/// Words are separated by any of `separators`. Single quotes keep everything literally; double
/// quotes allow `\"` and `\\`; outside quotes a backslash escapes the next character. An empty
/// quoted word (`""`) yields an empty string. Throws on an unterminated quote or escape.
public enum ShellLexer {
    public static func split(_ s: String, separators: Set<Character> = [" ", "\n"]) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character? = nil
        var escaping = false
        var escapeInDoubleQuote = false

        for c in s {
            if escaping {
                if escapeInDoubleQuote && c != "\"" && c != "\\" {
                    current.append("\\")
                }
                current.append(c)
                escaping = false
                continue
            }
            if let q = quote {
                if c == q {
                    quote = nil
                } else if q == "\"" && c == "\\" {
                    escaping = true
                    escapeInDoubleQuote = true
                } else {
                    current.append(c)
                }
                continue
            }
            if separators.contains(c) {
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
                continue
            }
            inWord = true
            switch c {
            case "'", "\"":
                quote = c
            case "\\":
                escaping = true
                escapeInDoubleQuote = false
            default:
                current.append(c)
            }
        }
        if quote != nil {
            throw MkosiError.config("No closing quotation in \(s)")
        }
        if escaping {
            throw MkosiError.config("No escaped character in \(s)")
        }
        if inWord { words.append(current) }
        return words
    }

    /// Quotes a word for a POSIX shell if it needs it.
    public static func quote(_ s: String) -> String {
        if s.isEmpty { return "''" }
        let safe = s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "@%+=:,./-_".contains($0)) }
        if safe { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\"'\"'") + "'"
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation needed).
    public func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty, self.contains(target) else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }

    /// Whitespace-trimmed copy (Python's `str.strip()` for ASCII whitespace).
    public func trimmed() -> String {
        var s = self[...]
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension Substring {
    /// Finds the first occurrence of `target`.
    func range(of target: String) -> Range<Substring.Index>? {
        guard let first = target.first else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i] == first, self[i...].hasPrefix(target) {
                return i..<index(i, offsetBy: target.count)
            }
            i = index(after: i)
        }
        return nil
    }
}
