/// A value type a setting decodes to from its parsed `Value`.
public protocol SettingValue: Sendable {
    /// The typed form of `value`, or nil when the value has another shape.
    static func decode(_ value: Value) -> Self?
    /// What an undecodable value reads as (only reachable for a hand-made `Config`).
    static var fallback: Self { get }
}

/// The typed handle of one setting (`config[.buildScripts]`). Keys are declared once per
/// destination in `SettingKeys.swift`; a key is only its destination, and `T` says how the final
/// value decodes.
public struct SettingKey<T: SettingValue>: Sendable, Hashable {
    public let dest: String

    init(_ dest: String) { self.dest = dest }

    /// The setting in the table (for its name, origins and status).
    public var setting: Setting { Settings.setting(dest) }
}

/// Namespace of the key registry used by the table's self-checks.
public enum SettingKeys {}

extension Config {
    /// The final value of `key`'s setting. Every destination is finalised, so the table's
    /// default (or computed default) is already in place; a hand-made `Config` without the value
    /// reads the static default.
    public subscript<T>(key: SettingKey<T>) -> T {
        let value = values[key.dest] ?? Settings.staticDefault(key.dest)
        return T.decode(value) ?? T.fallback
    }

    /// Where the final value of `key`'s setting came from.
    public func origins<T>(of key: SettingKey<T>) -> [Origin] { origins[key.dest] ?? [.defaultValue] }

    /// Returns a copy with `key` set to `value`.
    public func with<T: SettingEnum>(_ key: SettingKey<T>, _ value: T) -> Config { with(key.dest, .string(value.rawValue)) }
    public func with(_ key: SettingKey<String?>, _ value: String?) -> Config { with(key.dest, value.map(Value.string) ?? .null) }
    public func with(_ key: SettingKey<Bool>, _ value: Bool) -> Config { with(key.dest, .bool(value)) }
    public func with(_ key: SettingKey<[String]>, _ value: [String]) -> Config {
        with(key.dest, .list(value.map(Value.string)))
    }
}

extension Settings {
    /// The value a setting has when nothing assigns it and no computed default applies.
    static func staticDefault(_ dest: String) -> Value {
        let s = setting(dest)
        return s.defaultValue ?? ((try? s.parser.parse(nil, old: nil, env: ParseEnvironment(cwd: "/"))) ?? .null)
    }
}

/// A key source or certificate source (`file`, `engine:NAME`, `provider:NAME`).
public struct KeySource: Equatable, Sendable {
    public var type: KeySourceType
    public var source: String
}

/// `RootPassword=`: the password, or its hash.
public struct RootPassword: Equatable, Sendable {
    public var password: String
    public var hashed: Bool
}

extension String: SettingValue {
    public static func decode(_ value: Value) -> String? { value.string }
    public static var fallback: String { "" }
}

extension Bool: SettingValue {
    public static func decode(_ value: Value) -> Bool? { value.bool }
    public static var fallback: Bool { false }
}

extension Int: SettingValue {
    public static func decode(_ value: Value) -> Int? { value.int }
    public static var fallback: Int { 0 }
}

extension Optional: SettingValue where Wrapped: SettingValue {
    public static func decode(_ value: Value) -> Self? {
        if value.isNull { return .some(nil) }
        return Wrapped.decode(value).map { .some($0) }
    }
    public static var fallback: Self { nil }
}

extension Array: SettingValue where Element: SettingValue {
    /// A null list (a computed default that found nothing, `ProxyExclude=`) reads as empty.
    public static func decode(_ value: Value) -> Self? {
        if value.isNull { return [] }
        guard let list = value.list else { return nil }
        var result: [Element] = []
        for item in list {
            guard let e = Element.decode(item) else { return nil }
            result.append(e)
        }
        return result
    }
    public static var fallback: Self { [] }
}

extension OrderedDict: SettingValue {
    public static func decode(_ value: Value) -> OrderedDict? { value.dict }
    public static var fallback: OrderedDict { OrderedDict() }
}

extension ConfigTree: SettingValue {
    public static func decode(_ value: Value) -> ConfigTree? { if case .tree(let t) = value { t } else { nil } }
    public static var fallback: ConfigTree { ConfigTree(source: "", target: nil) }
}

extension Credential: SettingValue {
    public static func decode(_ value: Value) -> Credential? { if case .credential(let c) = value { c } else { nil } }
    public static var fallback: Credential { Credential(name: "", value: nil, path: nil) }
}

extension Drive: SettingValue {
    public static func decode(_ value: Value) -> Drive? { if case .drive(let d) = value { d } else { nil } }
    public static var fallback: Drive { Drive(id: "", size: 0, directory: nil, options: nil, fileId: "", flags: []) }
}

extension UKIProfile: SettingValue {
    public static func decode(_ value: Value) -> UKIProfile? { if case .ukiProfile(let p) = value { p } else { nil } }
    public static var fallback: UKIProfile { UKIProfile(profile: OrderedDict(), cmdline: [], signExpectedPcr: true) }
}

extension KeySource: SettingValue {
    public static func decode(_ value: Value) -> KeySource? {
        guard case .keySource(let type, let source) = value, let t = KeySourceType(rawValue: type) else { return nil }
        return KeySource(type: t, source: source)
    }
    public static var fallback: KeySource { KeySource(type: .file, source: "") }
}

extension RootPassword: SettingValue {
    public static func decode(_ value: Value) -> RootPassword? {
        if case .rootPassword(let p, let hashed) = value { RootPassword(password: p, hashed: hashed) } else { nil }
    }
    public static var fallback: RootPassword { RootPassword(password: "", hashed: false) }
}

extension SettingEnum {
    public static func decode(_ value: Value) -> Self? { value.string.flatMap(Self.init(rawValue:)) }
    public static var fallback: Self { allCases.first! }
}
