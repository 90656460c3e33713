/// Where a value came from, for `--show-origin`.
public enum Origin: Equatable, Sendable, CustomStringConvertible {
    /// A command-line option, as written (`--package`).
    case commandLine(option: String)
    /// A line of a configuration file.
    case file(path: String, line: Int)
    /// An auto-detected file in a configuration directory (`mkosi.extra`).
    case autoFile(path: String)
    /// Passed down from the main image (universal, multiversal or inherited settings).
    case mainImage
    /// Copied from an earlier, promoted namespace (`mkosi.local.conf`).
    case promoted([Origin])
    /// A default or computed default.
    case defaultValue

    public var description: String {
        switch self {
        case .commandLine(let o): return "command line (\(o))"
        case .file(let p, let l): return "\(p):\(l)"
        case .autoFile(let p): return "auto-detected \(p)"
        case .mainImage: return "main image"
        case .promoted(let o): return o.map(\.description).joined(separator: ", ")
        case .defaultValue: return "default"
        }
    }
}

/// Values assigned to settings, keyed by destination. A present `.null` means "assigned to
/// nothing" (which hides defaults of lists and nullable settings); an absent key means "never
/// assigned".
public struct Namespace: Sendable {
    public private(set) var values: [String: Value] = [:]
    /// Destinations that were reset with an empty value on the command line.
    public var wasNone: Set<String> = []
    /// For each destination, the assignments that make up its current value.
    public private(set) var origins: [String: [Origin]] = [:]

    public init() {}

    public subscript(dest: String) -> Value? { values[dest] }

    public func contains(_ dest: String) -> Bool { values[dest] != nil }

    /// Records an assignment. `appends` keeps earlier origins (list and dictionary settings that
    /// grew); otherwise the new origin replaces them.
    public mutating func assign(_ dest: String, _ value: Value, origin: Origin, appends: Bool = false) {
        values[dest] = value
        if appends, !value.isNull { origins[dest, default: []].append(origin) } else { origins[dest] = [origin] }
    }

    /// Sets a value with the given origins as they are.
    public mutating func set(_ dest: String, _ value: Value, origins o: [Origin]) {
        values[dest] = value
        origins[dest] = o
    }

    public mutating func remove(_ dest: String) {
        values[dest] = nil
        origins[dest] = nil
    }

    public func origins(of dest: String) -> [Origin] { origins[dest] ?? [] }
}
