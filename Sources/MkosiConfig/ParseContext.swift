import MkosiCore

/// The state of parsing the configuration of one image.
///
/// Two namespaces are kept: `cli` (command line, and anything promoted to command-line priority:
/// `mkosi.local`, values forced from the main image) and `config` (configuration files). The
/// final value of a setting (`finalizeValue`) is the command-line value, merged with the
/// configuration value for lists and dictionaries, else the configuration value, else the
/// default. Defaults are computed once per image and cached, as upstream does.
final class ParseContext {
    let resources: BuiltinResources
    /// Files scanned so far, shared by all images of one run (files do not change meanwhile).
    let cache: ParseCache
    var cli = Namespace()
    var config = Namespace()
    /// Defaults computed (or seeded from the main image) so far.
    var defaults: [String: Value] = [:]
    /// (device, inode) of every included file or directory, so each is parsed once.
    var includes: Set<[UInt64]> = []
    /// `main`, a subimage name, `tools` or `default-initrd`.
    var image = "main"
    /// The directory mkosi was invoked in (`-C`), nil for `-C ''`.
    var directory: String?
    /// Configuration files parsed, in order.
    var files: [String] = []
    /// The directory relative paths resolve against: that of the nearest `mkosi.conf`.
    var cwd: String
    /// Profile names `[Match]`/`[Assert]` `Profiles=` conditions named so far (no misspelling).
    var matchedProfiles: Set<String> = []

    init(resources: BuiltinResources, cwd: String, cache: ParseCache = ParseCache()) {
        self.resources = resources
        self.cwd = cwd
        self.cache = cache
    }

    /// A fresh context for another image of the same run.
    func sibling() -> ParseContext { ParseContext(resources: resources, cwd: cwd, cache: cache) }

    func copy() -> ParseContext {
        let c = ParseContext(resources: resources, cwd: cwd, cache: cache)
        c.cli = cli
        c.config = config
        c.defaults = defaults
        c.includes = includes
        c.image = image
        c.directory = directory
        c.files = files
        c.matchedProfiles = matchedProfiles
        return c
    }

    var env: ParseEnvironment { ParseEnvironment(cwd: cwd) }

    /// Runs `body` with `cwd` set to `dir`.
    func within<T>(_ dir: String, _ body: () throws -> T) rethrows -> T {
        let saved = cwd
        cwd = dir
        defer { cwd = saved }
        return try body()
    }

    /// Whether `setting` may not be configured in the current image.
    func prohibited(_ s: Setting) -> Bool {
        (!s.toolsOK && image == "tools") || (s.scope.isMainOnly && image != "main")
            || (s.scope == .universal && image != "main" && image != "tools")
    }

    // MARK: Final values

    /// The value of `setting` as things stand: command line over configuration over default.
    func finalizeValue(_ s: Setting) throws -> Value {
        let dest = s.dest
        if let v = cli[dest], !v.isNull {
            let cfg = config[dest]
            if cfg == nil || cfg!.isNull || cli.wasNone.contains(dest) { return v }
            switch (cfg!, v) {
            case (.list(let a), .list(let b)): return .list(a + b)
            case (.dict(let a), .dict(let b)): return .dict(a.merging(b))
            default: return v
            }
        }
        if !cli.contains(dest), let v = config[dest], !v.isNull { return v }

        let value: Value
        if (cli.contains(dest) || config.contains(dest)) && s.assignmentHidesDefault {
            value = try s.parser.parse(nil, old: nil, env: env)
        } else if let cached = defaults[dest] {
            value = cached
        } else if let factory = s.factory {
            value = try DefaultFactories.compute(factory, context: self)
        } else if let d = s.defaultValue {
            value = d
        } else {
            value = try s.parser.parse(nil, old: nil, env: env)
        }
        defaults[dest] = value
        return value
    }

    func finalizeValue(_ dest: String) throws -> Value { try finalizeValue(Settings.setting(dest)) }

    /// Where the final value of `setting` came from.
    func origins(_ s: Setting) -> [Origin] {
        let dest = s.dest
        if let v = cli[dest], !v.isNull {
            let cfg = config[dest]
            if cfg == nil || cfg!.isNull || cli.wasNone.contains(dest) { return cli.origins(of: dest) }
            switch v {
            case .list, .dict: return config.origins(of: dest) + cli.origins(of: dest)
            default: return cli.origins(of: dest)
            }
        }
        if !cli.contains(dest), let v = config[dest], !v.isNull { return config.origins(of: dest) }
        if cli.contains(dest) { return cli.origins(of: dest) }
        if config.contains(dest) { return config.origins(of: dest) }
        return [.defaultValue]
    }

    /// Every setting's final value and origins, keyed by destination.
    func finalize() throws -> (values: [String: Value], origins: [String: [Origin]]) {
        var values: [String: Value] = [:]
        var origins: [String: [Origin]] = [:]
        for dest in Settings.dests {
            let s = Settings.setting(dest)
            values[dest] = try finalizeValue(s)
            origins[dest] = self.origins(s)
        }
        return (values, origins)
    }

    // MARK: Specifiers

    /// Expands `%x` specifiers in a value read from `path`. Unknown specifiers, and those whose
    /// setting is not set yet, warn and expand to nothing.
    func expandSpecifiers(_ text: String, path: String) throws -> String {
        guard text.contains("%") else { return text }
        var result = ""
        var percent = false
        for c in text {
            guard percent else {
                if c == "%" { percent = true } else { result.append(c) }
                continue
            }
            percent = false
            if c == "%" {
                result.append("%")
            } else if let s = Settings.bySpecifier[c] {
                let v = try finalizeValue(s)
                if v.isNull {
                    Log.warning("\(path): Setting \(s.name) specified by specifier '%\(c)' in \(text) is not yet set, ignoring")
                    continue
                }
                result += v.display
            } else if let expansion = try specifier(c, path: path, text: text) {
                result += expansion
            } else if !"CPDFI".contains(c) {
                Log.warning("\(path): Unknown specifier '%\(c)' found in \(text), ignoring")
            }
        }
        if percent { result.append("%") }
        return result
    }

    /// The specifiers not backed by a setting; nil when it expands to nothing (with a warning).
    private func specifier(_ c: Character, path: String, text: String) throws -> String? {
        switch c {
        case "C": return Path.dirname(Path.resolve(path, cwd: cwd))
        case "P": return cwd
        case "D":
            guard let directory else {
                Log.warning("\(path): Specifier '%D' in \(text) has no value when run with -C '', ignoring")
                return nil
            }
            return Path.resolve(directory, cwd: cwd)
        case "F":
            let d = try finalizeValue("distribution")
            guard let name = d.string, let dist = Distribution(rawValue: name) else {
                Log.warning("\(path): Setting Distribution which specifier '%F' in \(text) depends on is not yet set, ignoring")
                return nil
            }
            return dist.filesystem
        case "I": return image
        default: return nil
        }
    }
}

/// Scanned configuration files of one run, by path.
final class ParseCache {
    private var items: [String: [IniFile.Item]] = [:]

    func items(_ path: String) throws -> [IniFile.Item] {
        if let cached = items[path] { return cached }
        let scanned = IniFile.scan(try FS.readBytes(path), path: path)
        items[path] = scanned
        return scanned
    }
}
