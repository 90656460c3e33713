#if canImport(Glibc)
import Glibc
#endif

/// Shell-style pattern matching.
public enum Glob {
    /// Whole-string match where `*` also matches `/` and leading dots, and backslash is literal
    /// (Python's `fnmatch.fnmatchcase`).
    public static func fnmatch(_ pattern: String, _ string: String) -> Bool {
        Glibc.fnmatch(pattern, string, FNM_NOESCAPE) == 0
    }

    public static func hasMagic(_ pattern: String) -> Bool {
        pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" })
    }

    /// Paths matching `pattern` (relative patterns are taken against `cwd`), like Python's
    /// `glob.glob`: wildcards skip hidden entries, a pattern without wildcards yields itself if
    /// it exists. Results keep the pattern's form (relative stays relative) and are sorted.
    public static func expand(_ pattern: String, cwd: String) -> [String] {
        if !hasMagic(pattern) {
            let full = Path.isAbsolute(pattern) ? pattern : cwd + "/" + pattern
            return FS.lstat(full) != nil ? [pattern] : []
        }
        let prefix = Path.isAbsolute(pattern) ? "" : escape(cwd) + "/"
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(prefix + pattern, 0, nil, &g) == 0 else { return [] }
        var results: [String] = []
        let stripLength = Path.isAbsolute(pattern) ? 0 : cwd.utf8.count + 1
        for i in 0..<Int(g.gl_pathc) {
            guard let p = g.gl_pathv[i] else { continue }
            let s = String(cString: p)
            results.append(stripLength > 0 ? String(s.utf8.dropFirst(stripLength))! : s)
        }
        return results.sorted { $0.codePointPrecedes($1) }
    }

    /// Entries of directory `dir` whose names match `pattern` (hidden ones included, as
    /// `pathlib.Path.glob` does), as full paths sorted by name.
    public static func matchDirectory(_ dir: String, pattern: String) -> [String] {
        guard let names = try? FS.listDirectory(dir) else { return [] }
        return names.filter { fnmatch(pattern, $0) }
            .sorted { $0.codePointPrecedes($1) }
            .map { dir == "/" ? "/" + $0 : dir + "/" + $0 }
    }

    private static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "*" || c == "?" || c == "[" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
