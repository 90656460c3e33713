import MkosiCore

/// A source tree with an optional target inside the image (`SRC[:DST]`).
public struct ConfigTree: Equatable, Sendable {
    public var source: String
    public var target: String?

    public init(source: String, target: String?) {
        self.source = source
        self.target = target
    }

    public var description: String { target.map { "\(source):\($0)" } ?? source }
}

/// A systemd credential: a literal value, or a file whose contents (or output, if executable)
/// become the value.
public struct Credential: Equatable, Sendable {
    public var name: String
    public var value: String?
    public var path: String?
}

/// An extra drive for the virtual machine (`ID:SIZE[:DIR[:OPTIONS[:FILEID[:FLAGS]]]]`).
public struct Drive: Equatable, Sendable {
    public var id: String
    public var size: Int
    public var directory: String?
    public var options: String?
    public var fileId: String
    public var flags: [String]
}

/// One `[UKIProfile]` file.
public struct UKIProfile: Equatable, Sendable {
    public var profile: OrderedDict
    public var cmdline: [String]
    public var signExpectedPcr: Bool
}

/// A string-to-string mapping that keeps insertion order; assigning an existing key keeps its
/// position, as Python dicts do.
public struct OrderedDict: Equatable, Sendable {
    public private(set) var pairs: [(String, String)] = []

    public init(_ pairs: [(String, String)] = []) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> String? {
        get { pairs.first(where: { $0.0 == key })?.1 }
        set {
            if let i = pairs.firstIndex(where: { $0.0 == key }) {
                if let newValue { pairs[i].1 = newValue } else { pairs.remove(at: i) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    public var keys: [String] { pairs.map(\.0) }
    public var isEmpty: Bool { pairs.isEmpty }

    /// `self | other`: other's keys win.
    public func merging(_ other: OrderedDict) -> OrderedDict {
        var result = self
        for (k, v) in other.pairs { result[k] = v }
        return result
    }

    public static func == (a: OrderedDict, b: OrderedDict) -> Bool {
        a.pairs.count == b.pairs.count && a.pairs.allSatisfy { b[$0.0] == $0.1 }
    }
}

/// The value of one setting, as the parser produced it. `.null` is an explicit "unset"
/// (upstream's `None`), which is different from a setting never being assigned at all.
public indirect enum Value: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// Strings, enum values, paths and UUIDs.
    case string(String)
    case list([Value])
    case dict(OrderedDict)
    case tree(ConfigTree)
    case keySource(type: String, source: String)
    case credential(Credential)
    case drive(Drive)
    case ukiProfile(UKIProfile)
    case rootPassword(String, hashed: Bool)

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var int: Int? { if case .int(let i) = self { return i } else { return nil } }
    public var list: [Value]? { if case .list(let l) = self { return l } else { return nil } }
    public var dict: OrderedDict? { if case .dict(let d) = self { return d } else { return nil } }
    public var strings: [String] { list?.compactMap(\.string) ?? [] }
    public var trees: [ConfigTree] {
        list?.compactMap { if case .tree(let t) = $0 { return t } else { return nil } } ?? []
    }

    /// The JSON form used by `--json summary` and `$MKOSI_CONFIG`.
    public var json: JSON {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        case .list(let l): return .array(l.map(\.json))
        case .dict(let d): return .object(d.pairs.map { ($0.0, .string($0.1)) })
        case .tree(let t):
            return .object([("Source", .string(t.source)), ("Target", t.target.map(JSON.string) ?? .null)])
        case .keySource(let type, let source):
            return .object([("Source", .string(source)), ("Type", .string(type))])
        case .credential(let c):
            return .object([
                ("Name", .string(c.name)), ("Path", c.path.map(JSON.string) ?? .null),
                ("Value", c.value.map(JSON.string) ?? .null),
            ])
        case .drive(let d):
            return .object([
                ("Directory", d.directory.map(JSON.string) ?? .null), ("FileId", .string(d.fileId)),
                ("Flags", .array(d.flags.map(JSON.string))), ("Id", .string(d.id)),
                ("Options", d.options.map(JSON.string) ?? .null), ("Size", .int(d.size)),
            ])
        case .ukiProfile(let p):
            return .object([
                ("Cmdline", .array(p.cmdline.map(JSON.string))),
                ("Profile", .object(p.profile.pairs.map { ($0.0, .string($0.1)) })),
                ("SignExpectedPcr", .bool(p.signExpectedPcr)),
            ])
        case .rootPassword(let pw, let hashed): return .array([.string(pw), .bool(hashed)])
        }
    }

    /// How the value reads in `summary` (Python's `str()` of the upstream value).
    public var display: String {
        switch self {
        case .null: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .string(let s): return s
        case .list(let l): return "[" + l.map(\.display).joined(separator: ", ") + "]"
        case .dict(let d): return d.pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        case .tree(let t): return t.description
        case .keySource(let type, let source): return source.isEmpty ? type : "\(type):\(source)"
        case .credential(let c): return c.name
        case .drive(let d): return d.id
        case .ukiProfile(let p):
            let profile = p.profile.pairs.map { "\(pyrepr($0.0)): \(pyrepr($0.1))" }.joined(separator: ", ")
            let cmdline = p.cmdline.map(pyrepr).joined(separator: ", ")
            return "UKIProfile(profile={\(profile)}, cmdline=[\(cmdline)], sign_expected_pcr=\(p.signExpectedPcr ? "True" : "False"))"
        case .rootPassword: return "(set)"
        }
    }
}
