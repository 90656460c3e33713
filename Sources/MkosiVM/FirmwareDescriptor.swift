import MkosiCore

/// A UEFI firmware as one of qemu's firmware descriptors (`/usr/share/qemu/firmware/*.json`)
/// describes it: code and variables template, the machines it is for, its features.
public struct FirmwareDescriptor: Sendable, Equatable {
    public var path: String
    public var code: String
    public var codeFormat: String
    public var variables: String
    public var variablesFormat: String
    /// Architecture and machine patterns ("x86_64", "pc-q35-*").
    public var targets: [(architecture: String, machines: [String])]
    public var features: [String]

    public static func == (a: Self, b: Self) -> Bool {
        a.path == b.path && a.code == b.code && a.variables == b.variables && a.features == b.features
    }

    /// The UEFI descriptors with an NVRAM template in `directories`, by path; others and
    /// unreadable files are skipped.
    public static func read(directories: [String]) -> [FirmwareDescriptor] {
        var paths: [String] = []
        for dir in directories {
            for name in (try? FS.listDirectory(dir)) ?? [] where name.hasSuffix(".json") { paths.append(Path.join(dir, name)) }
        }
        return paths.sorted().compactMap { path in
            guard let text = try? FS.readText(path), let json = try? JSON.parse(text) else { return nil }
            return parse(json, path: path)
        }
    }

    static func parse(_ json: JSON, path: String) -> FirmwareDescriptor? {
        func strings(_ v: JSON?) -> [String] {
            guard case .array(let items)? = v else { return [] }
            return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        }
        func format(_ v: JSON?) -> String { if case .string(let f)? = v { return f } else { return "raw" } }
        guard strings(json["interface-types"]).contains("uefi"), let mapping = json["mapping"],
              let executable = mapping["executable"], let template = mapping["nvram-template"],
              case .string(let code)? = executable["filename"], case .string(let vars)? = template["filename"],
              case .array(let targets)? = json["targets"] else { return nil }
        let parsed = targets.compactMap { t -> (String, [String])? in
            guard case .string(let a)? = t["architecture"] else { return nil }
            return (a, strings(t["machines"]))
        }
        return FirmwareDescriptor(path: path, code: code, codeFormat: format(executable["format"]), variables: vars,
                                  variablesFormat: format(template["format"]), targets: parsed, features: strings(json["features"]))
    }

    /// The first of `descriptors` for `architecture`'s `machine`, with Secure Boot exactly when
    /// `secureBoot` and Microsoft's keys enrolled exactly when `microsoftKeys`.
    public static func pick(_ descriptors: [FirmwareDescriptor], architecture: String, machine: String, secureBoot: Bool,
                            microsoftKeys: Bool) -> FirmwareDescriptor? {
        descriptors.first { d in
            d.targets.contains { $0.architecture == architecture && $0.machines.contains { $0.contains(machine) } }
                && d.features.contains("secure-boot") == secureBoot && d.features.contains("enrolled-keys") == microsoftKeys
        }
    }
}
