#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// The table of all settings and its lookups. Config files, command-line options, `[Match]`,
/// defaults, `summary` and JSON are all driven from `Settings.all`.
public enum Settings {
    /// Every setting in upstream's order (the order auto-detected files are looked up in).
    public static let all: [Setting] =
        includeSection + configSection + distributionSection + outputSection + contentSection
        + validationSection + buildSection + runtimeSection

    /// Lookup by name, including deprecated names.
    public static let byName: [String: Setting] = {
        var map: [String: Setting] = [:]
        for s in all {
            for n in [s.name] + s.compatNames { map[n] = s }
        }
        return map
    }()

    /// Lookup by destination; for shared destinations the last setting wins (it names the JSON key).
    public static let byDest: [String: Setting] = {
        var map: [String: Setting] = [:]
        for s in all { map[s.dest] = s }
        return map
    }()

    /// Lookup by command-line option (long, deprecated long and short forms).
    public static let byOption: [String: Setting] = {
        var map: [String: Setting] = [:]
        for s in all {
            for o in [s.long] + s.compatLongs + (s.short.map { [$0] } ?? []) { map[o] = s }
        }
        return map
    }()

    public static let bySpecifier: [Character: Setting] = {
        var map: [Character: Setting] = [:]
        for s in all { if let c = s.specifier { map[c] = s } }
        return map
    }()

    /// Destinations in table order, without repeats.
    public static let dests: [String] = {
        var seen: Set<String> = []
        return all.compactMap { seen.insert($0.dest).inserted ? $0.dest : nil }
    }()

    /// Destinations that appear in an image's JSON object (tools-scope settings do not).
    public static let jsonDests: [String] = dests.filter { byDest[$0]!.scope != .tools && $0 != "include" }

    public static func setting(_ dest: String) -> Setting {
        guard let s = byDest[dest] else { preconditionFailure("unknown setting destination \(dest)") }
        return s
    }

    /// The default `Seed=`: one random UUID per run, shared by all images, as upstream does.
    public static let randomSeed: String = UUID.random()

    /// Names of the built-in configurations accepted by `Include=`.
    public static let builtinConfigs = ["mkosi-tools", "mkosi-initrd", "mkosi-vm", "mkosi-addon", "mkosi-obs"]

    /// The settings of a `[UKIProfile]` file.
    static let ukiProfileSettings: [Setting] = [
        Setting("Profile", .config, dest: "profile", parser: .dict(delimiter: nil, item: .keyValue, unescape: false),
                long: "--profile", support: .configuration, help: "Contents of the .profile section"),
        Setting("Cmdline", .config, dest: "cmdline", parser: .list(ListOptions(delimiter: " ")),
                long: "--cmdline", support: .configuration, help: "Appended to the base command line for this profile"),
        Setting("SignExpectedPcr", .config, dest: "sign_expected_pcr", parser: .boolean,
                defaultValue: .bool(true), long: "--sign-expected-pcr", support: .configuration, help: "Sign the PCR policy for this profile"),
    ]
}

/// Version 4 UUIDs and their canonical text form.
public enum UUID {
    public static func random() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
            close(fd)
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return format(bytes)
    }

    /// Parses the forms Python's `uuid.UUID()` accepts (hex digits with optional hyphens, braces
    /// and `urn:uuid:` prefix) into the canonical lower-case form.
    public static func parse(_ s: String) -> String? {
        var t = s.lowercased()
        if t.hasPrefix("urn:uuid:") { t = String(t.dropFirst(9)) }
        t = String(t.filter { $0 != "{" && $0 != "}" && $0 != "-" })
        guard t.count == 32, t.allSatisfy({ $0.isHexDigit }) else { return nil }
        let hex = Array(t)
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            bytes.append(UInt8(String(hex[i...i + 1]), radix: 16)!)
        }
        return format(bytes)
    }

    static func format(_ b: [UInt8]) -> String {
        let h = b.map { byte -> String in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }
        return h[0..<4].joined() + "-" + h[4..<6].joined() + "-" + h[6..<8].joined() + "-" + h[8..<10].joined()
            + "-" + h[10..<16].joined()
    }
}
