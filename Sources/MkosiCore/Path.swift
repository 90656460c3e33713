#if canImport(Glibc)
import Glibc
#endif

/// Path string helpers with the semantics mkosi relies on (those of Python's `pathlib`).
public enum Path {
    public static func isAbsolute(_ p: String) -> Bool { p.hasPrefix("/") }

    /// Normalises a path the way `pathlib.Path()` does: collapses repeated slashes, drops `.`
    /// components and a trailing slash; keeps `..`. The empty path becomes `.`.
    public static func normalize(_ p: String) -> String {
        if isNormal(p) { return p }
        let absolute = p.hasPrefix("/")
        let parts = p.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// Whether `p` is already in normal form (the common case, checked without allocating).
    static func isNormal(_ p: String) -> Bool {
        var previous: UInt8 = 0
        var componentStart = true
        var componentIsDot = false
        var count = 0
        for b in p.utf8 {
            count += 1
            if b == 0x2F {
                if previous == 0x2F || componentIsDot { return false }
                componentStart = true
                componentIsDot = false
            } else {
                componentIsDot = componentStart && b == 0x2E
                if !componentStart { componentIsDot = false }
                componentStart = false
            }
            previous = b
        }
        if count == 0 || componentIsDot { return false }
        return previous != 0x2F || count == 1
    }

    /// `base / rel`: `rel` if it is absolute, otherwise the two joined and normalised.
    public static func join(_ base: String, _ rel: String) -> String {
        if rel.hasPrefix("/") { return normalize(rel) }
        if base.isEmpty { return normalize(rel) }
        return normalize(base + "/" + rel)
    }

    public static func basename(_ p: String) -> String {
        let n = normalize(p)
        if n == "/" { return "" }
        if let i = n.lastIndex(of: "/") { return String(n[n.index(after: i)...]) }
        return n == "." ? "" : n
    }

    public static func dirname(_ p: String) -> String {
        let n = normalize(p)
        guard let i = n.lastIndex(of: "/") else { return "." }
        if i == n.startIndex { return "/" }
        return String(n[..<i])
    }

    /// The extension of the last component including the dot (`.conf`), as `PurePath.suffix`.
    public static func suffix(_ p: String) -> String {
        let name = basename(p)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex,
              name.index(after: dot) != name.endIndex else { return "" }
        return String(name[dot...])
    }

    /// `p` relative to `base` if it lies below it (or is it), else nil.
    public static func relative(_ p: String, to base: String) -> String? {
        let p = normalize(p), base = normalize(base)
        if p == base { return "." }
        let prefix = base == "/" ? "/" : base + "/"
        guard p.hasPrefix(prefix) else { return nil }
        return String(p.dropFirst(prefix.count))
    }

    /// Makes `p` absolute against `cwd` and resolves symlinks as far as the path exists, like
    /// `pathlib.Path.resolve()` (non-strict `realpath`).
    public static func resolve(_ p: String, cwd: String) -> String {
        let start = p.hasPrefix("/") ? p : cwd + "/" + p
        var seen: Set<String> = []
        return realpath(start, seen: &seen) ?? normalize(start)
    }

    private static func realpath(_ p: String, seen: inout Set<String>) -> String? {
        var result = "/"
        var rest = p.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        rest.reverse()
        while let name = rest.popLast() {
            if name == "." { continue }
            if name == ".." {
                result = dirname(result)
                continue
            }
            let candidate = result == "/" ? "/" + name : result + "/" + name
            guard let st = FS.lstat(candidate), st.isSymlink, let target = FS.readlink(candidate) else {
                result = candidate
                continue
            }
            if seen.contains(candidate) {
                // A symlink loop: keep the rest as it is, as Python's non-strict realpath does.
                result = candidate
                continue
            }
            seen.insert(candidate)
            let resolvedTarget = target.hasPrefix("/") ? target : (result == "/" ? "/" : result + "/") + target
            guard let resolved = realpath(resolvedTarget, seen: &seen) else { return nil }
            seen.remove(candidate)
            result = resolved
        }
        return result
    }

    /// Expands `~` and `~user` at the start of a path, like `os.path.expanduser`.
    public static func expandUser(_ p: String) -> String {
        guard p.hasPrefix("~") else { return p }
        let slash = p.firstIndex(of: "/") ?? p.endIndex
        let user = p[p.index(after: p.startIndex)..<slash]
        var home: String?
        if user.isEmpty {
            if let h = getenv("HOME") {
                home = String(cString: h)
            } else if let pw = getpwuid(Privileges.hostUID) {
                home = String(cString: pw.pointee.pw_dir)
            }
        } else if let pw = getpwnam(String(user)) {
            home = String(cString: pw.pointee.pw_dir)
        }
        guard var h = home else { return p }
        if h.count > 1 && h.hasSuffix("/") { h.removeLast() }
        let remainder = p[slash...]
        if h == "/" && remainder.hasPrefix("/") { return String(remainder) }
        return h + remainder
    }

    /// Expands `$NAME` and `${NAME}` from the environment, like `os.path.expandvars`: unknown
    /// variables are left as they are.
    public static func expandVariables(_ s: String, environment: (String) -> String? = Env.get) -> String {
        guard s.contains("$") else { return s }
        var out = ""
        let chars = Array(s)
        var i = 0
        func isNameChar(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
        while i < chars.count {
            let c = chars[i]
            guard c == "$", i + 1 < chars.count else {
                out.append(c)
                i += 1
                continue
            }
            if chars[i + 1] == "{" {
                if let close = chars[(i + 2)...].firstIndex(of: "}") {
                    let name = String(chars[(i + 2)..<close])
                    if !name.isEmpty, let v = environment(name) {
                        out += v
                    } else {
                        out += String(chars[i...close])
                    }
                    i = close + 1
                    continue
                }
                out.append(c)
                i += 1
                continue
            }
            var j = i + 1
            while j < chars.count && isNameChar(chars[j]) { j += 1 }
            if j == i + 1 {
                out.append(c)
                i += 1
                continue
            }
            let name = String(chars[(i + 1)..<j])
            if let v = environment(name) { out += v } else { out += String(chars[i..<j]) }
            i = j
        }
        return out
    }
}

/// Process environment access.
public enum Env {
    public static func get(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }

    /// All variables of the process environment, in their order.
    public static func all() -> [(String, String)] {
        var result: [(String, String)] = []
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                result.append((String(s[..<eq]), String(s[s.index(after: eq)...])))
            }
            p += 1
        }
        return result
    }
}

extension String {
    /// Compares by UTF-8 bytes, which is Unicode code point order (how Python orders strings).
    @inlinable
    public func codePointCompare(_ other: String) -> Int {
        var a = self, b = other
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let n = Swift.min(x.count, y.count)
                if n > 0, let xb = x.baseAddress, let yb = y.baseAddress {
                    let r = memcmp(xb, yb, n)
                    if r != 0 { return r < 0 ? -1 : 1 }
                }
                return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
            }
        }
    }

    /// Code point order (Python's string order).
    @inlinable
    public func codePointPrecedes(_ other: String) -> Bool { codePointCompare(other) < 0 }
}
