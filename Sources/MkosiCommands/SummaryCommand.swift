import MkosiConfig
import MkosiCore

/// `mkosi summary`: the resolved configuration of every image (tools tree first, main image
/// last); `--json` for the machine-readable form; `--show-origin` for where each value came from.
enum SummaryCommand {
    static func run(_ loaded: LoadedConfiguration) {
        let args = loaded.args
        if args.showOrigin {
            Pager.page(args.json ? OriginReport.json(loaded) : OriginReport.text(loaded), enabled: args.pager)
            return
        }
        if args.json {
            Pager.page(loaded.summaryJSON, enabled: args.pager)
            return
        }
        var text = loaded.tools.map { Summary.render($0, cwd: loaded.cwd) + "\n" } ?? ""
        text += loaded.images.map { Summary.render($0, cwd: loaded.cwd) }.joined(separator: "\n")
        Pager.page(text, enabled: args.pager)
    }
}

/// `--show-origin`: for every setting of every image, its value and where it came from: a
/// command-line option, a file and line, an auto-detected `mkosi.*` file, the main image, or the
/// default.
enum OriginReport {
    static func entries(_ c: Config) -> [(name: String, value: String, origins: [Origin])] {
        Settings.jsonDests.map { dest in
            let s = Settings.setting(dest)
            let origins = c.origins[dest] ?? [.defaultValue]
            return (s.name, render(c.value(of: s)), origins)
        }
    }

    static func render(_ v: Value) -> String {
        switch v {
        case .null: return "(unset)"
        case .list(let l): return l.isEmpty ? "(empty)" : l.map(\.display).joined(separator: " ")
        case .dict(let d): return d.isEmpty ? "(empty)" : d.pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        case .bool(let b): return b ? "yes" : "no"
        default: return v.display
        }
    }

    static func describe(_ origins: [Origin], cwd: String) -> String { Origin.describe(origins, cwd: cwd) }

    static func images(_ loaded: LoadedConfiguration) -> [Config] {
        (loaded.tools.map { [$0] } ?? []) + loaded.images
    }

    /// One block per image: every setting that is not at its default, as `Name=value`, with
    /// where the value came from; then how many settings are at their defaults.
    static func text(_ loaded: LoadedConfiguration) -> String {
        var out = ""
        for (n, c) in images(loaded).enumerated() {
            if n > 0 { out += "\n" }
            out += Terminal.bold("IMAGE: \(c.image)") + "\n"
            let all = entries(c)
            let set = all.filter { $0.origins != [.defaultValue] }
            let lefts = set.map { e -> String in
                let value = e.value.count > 60 ? String(e.value.prefix(59)) + "…" : e.value
                return "\(e.name)=\(value)"
            }
            let width = min((lefts.map(\.count).max() ?? 0) + 2, 72)
            for (left, e) in zip(lefts, set) {
                let pad = String(repeating: " ", count: max(2, width - left.count))
                out += "  \(left)\(pad)\(describe(e.origins, cwd: loaded.cwd))\n"
            }
            out += "  (\(all.count - set.count) other settings have their default values)\n"
        }
        return out
    }

    /// `{"Images": [{"Image": NAME, "Origins": {SETTING: [ORIGIN…]}}…]}`.
    static func json(_ loaded: LoadedConfiguration) -> String {
        let imgs: [JSON] = images(loaded).map { c in
            let origins: [(String, JSON)] = entries(c).map { e in
                (e.name, .array(e.origins.map { .string(describe([$0], cwd: loaded.cwd)) }))
            }
            return .object([("Image", .string(c.image)), ("Origins", .object(origins))])
        }
        return JSON.object([("Images", .array(imgs))]).serialized() + "\n"
    }
}

/// `mkosi cat-config`: every configuration file of every image, with its path.
enum CatConfigCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        var out = ""
        for (n, c) in loaded.images.enumerated() {
            if n > 0 { out += "\n" }
            out += Terminal.bold("### IMAGE: \(c.image)") + "\n"
            for path in c.files {
                out += Terminal.blue("# \(Path.relative(path, to: loaded.cwd) ?? path)") + "\n"
                out += try FS.readText(path) + "\n"
            }
        }
        Pager.page(out, enabled: loaded.args.pager)
    }
}

/// `mkosi bump`: writes the next version to `mkosi.version`.
enum BumpCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        guard let main = loaded.main else { return }
        try write(main, cwd: loaded.cwd)
    }

    /// Writes `ImageVersion=` of `main` to `mkosi.version` in the configuration directory.
    static func write(_ main: Config, cwd: String) throws {
        guard let version = main[.imageVersion] else { return }
        let path = Path.join(ConfigLoader.configDirectory(for: cwd) ?? cwd, "mkosi.version")
        try FS.writeAtomically(path, version + "\n")
        Log.info("Wrote new version \(version) to \(path)")
    }
}
