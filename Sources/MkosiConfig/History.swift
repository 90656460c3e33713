import MkosiCore

/// `History=yes`: the command-line settings of the last build are saved in
/// `.mkosi-private/history/latest.json` and reused by later verbs that work on the built image
/// (`boot`, `vm`, `summary`, …) unless `-f` asks for a new build. `[Include]` and `[Runtime]`
/// settings are not taken from the history, so they may change freely.
public enum History {
    /// `<config directory>/.mkosi-private/history`.
    public static func directory(for args: Args, cwd: String) -> String {
        let base = args.directory.flatMap { ConfigLoader.configDirectory(for: $0) } ?? cwd
        return Path.join(base, ".mkosi-private/history")
    }

    /// Whether this invocation records a new history (a new build).
    public static func wantsNew(_ args: Args) -> Bool {
        guard args.directory != nil, args.verb.needsBuild, !args.rerunBuildScripts else { return false }
        return args.verb == .build || args.force > 0
    }

    /// Whether this invocation takes its settings from the saved history.
    static func applies(_ args: Args, historyDir: String) -> Bool {
        if wantsNew(args) || args.directory == nil { return false }
        if [.clean, .box, .sandbox, .latestSnapshot].contains(args.verb) { return false }
        if args.force > 0 && (args.verb == .summary || args.verb.needsTools || args.verb.needsBuild) { return false }
        if args.verb == .build && !args.rerunBuildScripts { return false }
        return FS.exists(Path.join(historyDir, "latest.json"))
    }

    /// Merges the saved settings into the command-line namespace (saved values win; differing
    /// command-line values are ignored with a warning).
    static func merge(into cli: inout Namespace, from path: String) throws {
        let json: JSON
        do {
            json = try JSON.parse(FS.readText(path))
        } catch let e as MkosiError {
            throw MkosiError(.config, "Cannot read \(path): \(e.message)", hint: "Run with -f to rebuild the image",
                             cause: MkosiError.cause(of: e))
        }
        guard case .object(let pairs) = json else {
            throw MkosiError.config("\(path) does not hold a JSON object", hint: "Run with -f to rebuild the image")
        }
        for (key, raw) in pairs {
            guard let s = Settings.byName[key] else {
                if case .array(let a) = raw, a.isEmpty { continue }
                if case .object(let o) = raw, o.isEmpty { continue }
                throw MkosiError.config("Serialized JSON has unknown field \(key)",
                                        hint: "Re-running mkosi once with -f should solve the issue by re-generating the JSON")
            }
            if s.section == .include || s.section == .runtime { continue }
            let value = try fromJSON(raw, s)
            if let current = cli[s.dest], current != value {
                Log.warning("Ignoring \(s.long) from the CLI. Run with -f to rebuild the image with this setting")
            }
            if value.list?.isEmpty == true || value.dict?.isEmpty == true { cli.wasNone.insert(s.dest) }
            cli.set(s.dest, value, origins: [.file(path: path, line: 1)])
        }
    }

    /// Writes the final values of the settings given on the command line.
    public static func write(_ values: [(Setting, Value)], to dir: String) throws {
        try FS.makeDirectories(dir)
        let json = JSON.object(values.map { ($0.0.name, $0.1.json) })
        try FS.writeAtomically(Path.join(dir, "latest.json"), json.serialized())
    }

    /// Turns a setting's JSON form (as in `--json summary`) back into a value.
    public static func fromJSON(_ json: JSON, _ s: Setting) throws -> Value {
        func bad() -> MkosiError {
            MkosiError.config("Unexpected JSON value for \(s.name): \(json.serialized(indent: nil))",
                              hint: "Re-running mkosi once with -f should solve the issue by re-generating the JSON")
        }
        func string(_ j: JSON?) -> String? { if case .string(let v)? = j { return v } else { return nil } }
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .int(Int(d))
        case .string(let v): return .string(v)
        case .object(let pairs):
            let o = JSON.object(pairs)
            switch s.parser {
            case .keySource, .certificateSource:
                return .keySource(type: string(o["Type"]) ?? "file", source: string(o["Source"]) ?? "")
            case .dict:
                return .dict(OrderedDict(try pairs.map { k, v in
                    guard let text = string(v) else { throw bad() }
                    return (k, text)
                }))
            default: throw bad()
            }
        case .array(let items):
            if case .rootPassword = s.parser {
                guard items.count == 2, case .string(let pw) = items[0], case .bool(let hashed) = items[1] else { throw bad() }
                return .rootPassword(pw, hashed: hashed)
            }
            return .list(try items.map { item in
                switch item {
                case .string(let v): return .string(v)
                case .object:
                    if let source = string(item["Source"]) {
                        return .tree(ConfigTree(source: source, target: string(item["Target"])))
                    }
                    if let name = string(item["Name"]) {
                        return .credential(Credential(name: name, value: string(item["Value"]), path: string(item["Path"])))
                    }
                    if let id = string(item["Id"]), case .int(let size)? = item["Size"] {
                        let flags: [String]
                        if case .array(let f)? = item["Flags"] { flags = f.compactMap { string($0) } } else { flags = [] }
                        return .drive(Drive(id: id, size: size, directory: string(item["Directory"]),
                                            options: string(item["Options"]), fileId: string(item["FileId"]) ?? id, flags: flags))
                    }
                    if case .object(let profile)? = item["Profile"] {
                        var cmdline: [String] = []
                        if case .array(let c)? = item["Cmdline"] { cmdline = c.compactMap { string($0) } }
                        var sign = true
                        if case .bool(let b)? = item["SignExpectedPcr"] { sign = b }
                        return .ukiProfile(UKIProfile(
                            profile: OrderedDict(profile.compactMap { k, v in string(v).map { (k, $0) } }),
                            cmdline: cmdline, signExpectedPcr: sign))
                    }
                    throw bad()
                default: throw bad()
                }
            })
        }
    }
}
