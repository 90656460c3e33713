#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// What value parsers may look at besides the value: the directory relative paths resolve
/// against (the directory of the nearest `mkosi.conf`).
public struct ParseEnvironment: Sendable {
    public var cwd: String

    public init(cwd: String) { self.cwd = cwd }
}

extension ValueParser {
    /// Applies one assignment. `value` nil means "no value at all" (which yields the parser's
    /// empty value), `""` is an empty assignment (which resets). `old` is the value so far.
    ///
    /// - Throws: `MkosiError.config` with upstream's message for an invalid value.
    public func parse(_ value: String?, old: Value?, env: ParseEnvironment) throws -> Value {
        switch self {
        case .string:
            return value.flatMap { $0.isEmpty ? nil : Value.string($0) } ?? .null
        case .boolean:
            guard let value else { return .bool(false) }
            if value.isEmpty { return .null }
            return .bool(try Boolean.parse(value))
        case .feature:
            guard let value else { return .string("auto") }
            if value.isEmpty { return .null }
            return .string(try Self.parseFeature(value))
        case .enumeration(let e):
            guard let value, !value.isEmpty else { return .null }
            return .string(try e.parse(value))
        case .enumOrBoolean(let e, let yes, let no):
            guard let value, !value.isEmpty else { return .null }
            if e.contains(value) { return .string(value) }
            return .string(try Boolean.parse(value) ? yes : no)
        case .compression:
            guard let value, !value.isEmpty else { return .null }
            if let c = Compression.named(value) { return .string(c.rawValue) }
            return .string(try Boolean.parse(value) ? "zstd" : "none")
        case .uuid:
            guard let value, !value.isEmpty else { return .null }
            if value == "random" { return .string(UUID.random()) }
            guard let u = UUID.parse(value) else { throw MkosiError.config("\(value) is not a valid UUID") }
            return .string(u)
        case .sourceDateEpoch:
            guard let value, !value.isEmpty else { return .null }
            guard let t = Self.integer(value) else {
                throw MkosiError.config("Timestamp \(pyrepr(value)) is not a valid integer")
            }
            if t < 0 { throw MkosiError.config("Source date epoch timestamp cannot be negative (got \(value))") }
            return .int(t)
        case .compressLevel:
            guard let value, !value.isEmpty else { return .null }
            guard let l = Self.integer(value) else {
                throw MkosiError.config("Compression level \(pyrepr(value)) is not a valid integer")
            }
            if l < 0 { throw MkosiError.config("Compression level cannot be negative (got \(value))") }
            return .int(l)
        case .mode:
            guard let value, !value.isEmpty else { return .null }
            guard let m = Self.integer(value, radix: 8) else {
                throw MkosiError.config("Access mode \(pyrepr(value)) is not a valid integer in base 8")
            }
            if m < 0 { throw MkosiError.config("Access mode cannot be negative (got \(value))") }
            if m > 0o1777 { throw MkosiError.config("Access mode cannot be greater than 1777 (got \(value))") }
            return .int(m)
        case .bytes:
            guard let value, !value.isEmpty else { return .null }
            return .int(try Self.parseBytes(value))
        case .number:
            guard let value, !value.isEmpty else { return .null }
            guard let n = Self.integer(value) else { throw MkosiError.config("\(pyrepr(value)) is not a valid number") }
            return .int(n)
        case .sectorSize:
            guard let value, !value.isEmpty else { return .null }
            guard let n = Self.integer(value) else { throw MkosiError.config("'\(value)' is not a valid number") }
            if n < 512 || n > 4096 { throw MkosiError.config("Sector size not between 512 and 4096: \(n)") }
            if n & (n - 1) != 0 { throw MkosiError.config("Sector size not power of 2: \(n)") }
            return .int(n)
        case .vsockCID:
            guard let value, !value.isEmpty else { return .null }
            if value == "auto" { return .int(-1) }
            if value == "hash" { return .int(-2) }
            guard let cid = Self.integer(value) else {
                throw MkosiError.config(
                    "VSock connection ID '\(value)' is not a valid number or one of 'auto' or 'hash'")
            }
            guard cid >= 3 && cid < 0xFFFF_FFFF else {
                throw MkosiError.config("\(cid) is not in the valid VSock connection ID range [3, 0xFFFFFFFF)")
            }
            return .int(cid)
        case .minimumVersion:
            return try Self.parseMinimumVersion(value, old: old)
        case .path(let options):
            guard let value, !value.isEmpty else { return .null }
            return .string(try PathParser.parse(value, options, env: env))
        case .key, .certificate:
            guard let value, !value.isEmpty else { return .null }
            let expanded = Path.normalize(value)
            if FS.exists(Path.join(env.cwd, expanded)) {
                var options = PathOptions.existing
                if case .key = self { options.secret = true }
                return .string(try PathParser.parse(value, options, env: env))
            }
            return .string(expanded)
        case .keySource, .certificateSource:
            guard let value, !value.isEmpty else { return .keySource(type: "file", source: "") }
            let (type, _, source) = value.partition(":")
            let types: ConfigEnum
            let what: String
            if case .keySource = self {
                types = .keySourceType
                what = "key source"
            } else {
                types = .certificateSourceType
                what = "certificate source"
            }
            guard types.contains(type) else { throw MkosiError.config("'\(value)' is not a valid \(what)") }
            return .keySource(type: type, source: source)
        case .filename(let hint):
            guard let value, !value.isEmpty else { return .null }
            let t = value.trimmed()
            if t == "." || t == ".." || value.contains("/") {
                throw MkosiError.config("\(pyrepr(value)) is not a valid filename.", hint: hint)
            }
            return .string(value)
        case .rootPassword:
            guard let value, !value.isEmpty else { return .null }
            let v = value.trimmed()
            if v.hasPrefix("hashed:") { return .rootPassword(String(v.dropFirst(7)), hashed: true) }
            return .rootPassword(v, hashed: false)
        case .artifactList:
            guard let value, !value.isEmpty else { return .list([]) }
            if let b = Boolean.tryParse(value) {
                // The old boolean form: yes also split the partitions.
                let compat: [ArtifactOutput] = b ? [.uki, .kernel, .initrd, .partitions] : [.uki, .kernel, .initrd]
                return .list(compat.map { .string($0.rawValue) })
            }
            return try ValueParser.list(ListOptions(item: .enumeration(.artifactOutput))).parse(value, old: old, env: env)
        case .list(let options):
            return try ListParser.parse(value, old: old, options: options, env: env)
        case .dict(let delimiter, let item, let unescape):
            return try DictParser.parse(value, old: old, delimiter: delimiter, item: item, unescape: unescape)
        case .credentials:
            return try CredentialParser.parse(value, old: old, env: env)
        }
    }

    /// `auto`/`enabled`/`disabled`, or a boolean.
    static func parseFeature(_ value: String) throws -> String {
        if ConfigEnum.feature.contains(value) { return value }
        return try Boolean.parse(value) ? "enabled" : "disabled"
    }

    /// An integer as Python's `int()` reads it: surrounding whitespace, a sign, underscores
    /// between digits.
    static func integer(_ s: String, radix: Int = 10) -> Int? {
        var t = s.trimmed()
        if t.contains("_") {
            if t.hasPrefix("_") || t.hasSuffix("_") || t.contains("__") { return nil }
            t = t.replacingOccurrences(of: "_", with: "")
        }
        return Int(t, radix: radix)
    }

    /// Sizes: bytes, or a number with a K/M/G suffix (binary units), rounded up to 4096.
    static func parseBytes(_ value: String) throws -> Int {
        var text = value
        var factor = 1.0
        if text.hasSuffix("G") {
            factor = 1024 * 1024 * 1024
        } else if text.hasSuffix("M") {
            factor = 1024 * 1024
        } else if text.hasSuffix("K") {
            factor = 1024
        }
        if factor > 1 { text.removeLast() }
        guard let number = Double(text.trimmed().replacingOccurrences(of: "_", with: "")), number.isFinite else {
            throw MkosiError.config(
                "'\(value)' is not a valid size",
                hint: "Use a number of bytes, optionally with a K, M or G suffix (e.g. 2G)")
        }
        let product = (number * factor).rounded(.up)
        guard product > 0 else { throw MkosiError.config("Size out of range") }
        guard product < 9.0e18 else { throw MkosiError.config("Size out of range: \(value)") }
        var result = Int(product)
        let rem = result % 4096
        if rem != 0 { result += 4096 - rem }
        return result
    }

    static func parseMinimumVersion(_ value: String?, old: Value?) throws -> Value {
        guard let value, !value.isEmpty else { return old ?? .null }
        // Upstream compares the commit with its own git checkout (and skips the check inside
        // `mkosi box`); a released upstream refuses the value. This implementation follows
        // upstream's development head and has no upstream commit to compare: the requirement is
        // taken as met, with a warning, so that configurations such as systemd's load.
        if value.hasPrefix("commit:") {
            Log.warningOnce("MinimumVersion=\(value) cannot be checked (this mkosi is not a git checkout of upstream mkosi); "
                            + "it is taken as met, since this mkosi follows upstream's development head")
            return .string(value)
        }
        let new = Version(value)
        if new > Version(MkosiVersion.current) {
            throw MkosiError.config("mkosi \(value) or newer is required by this configuration (found \(MkosiVersion.current))")
        }
        guard let oldText = old?.string else { return .string(value) }
        return new > Version(oldText) ? .string(value) : .string(oldText)
    }
}

/// The version this implementation reports and compares `MinimumVersion=` against: the upstream
/// development version whose configuration language it implements.
public enum MkosiVersion {
    public static let current = "27~devel"

    /// What `mkosi --version` prints: upstream's two fields first (`mkosi 27~devel`, what scripts
    /// that read the version take), then which implementation and commit this is, e.g.
    /// `mkosi 27~devel (mkosi-swift, commit 1a2b3c4d5e6f)`; `commit unknown` when the build was
    /// not told its commit.
    public static func versionLine(commit: String? = BuildInfo.commit) -> String {
        "mkosi \(current) (\(BuildInfo.implementation), commit \(commit ?? "unknown"))"
    }
}

/// Python's `repr()` of a string, used in messages copied from upstream.
func pyrepr(_ s: String) -> String {
    if s.contains("'") && !s.contains("\"") { return "\"\(s)\"" }
    return "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}

extension String {
    /// Python's `str.partition`: the part before the first `separator`, whether it was found,
    /// and the rest.
    func partition(_ separator: Character) -> (String, Bool, String) {
        guard let i = firstIndex(of: separator) else { return (self, false, "") }
        return (String(self[..<i]), true, String(self[index(after: i)...]))
    }
}
