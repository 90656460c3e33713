import MkosiCore

/// Path values: variables and `~` expanded, existence checked, made absolute.
enum PathParser {
    /// - Throws: when the path is required but missing, not a directory when it must be, not
    ///   absolute when it must be, below an excluded directory, or a secret readable by others.
    static func parse(_ raw: String, _ o: PathOptions, env: ParseEnvironment) throws -> String {
        if o.constants.contains(raw) { return raw }
        let value = o.expandVariables ? Path.expandVariables(raw) : raw
        var path = Path.normalize(value)
        if o.expandUser { path = Path.expandUser(path) }
        let onDisk = Path.join(env.cwd, path)
        if o.required {
            guard let st = FS.stat(onDisk) else { throw MkosiError.config("\(value) does not exist") }
            if o.directory && !st.isDirectory { throw MkosiError.config("\(value) is not a directory") }
        }
        if o.absolute && !Path.isAbsolute(path) { throw MkosiError.config("\(value) must be an absolute path") }
        for e in o.exclude where Path.relative(path, to: e) != nil {
            throw MkosiError.config("\(path) can not be relative to \(e)")
        }
        if o.resolve { path = Path.resolve(path, cwd: env.cwd) }
        if o.secret { try checkSecret(o.resolve ? path : onDisk, display: path) }
        return path
    }

    /// Refuses a secret file that others may read or write.
    static func checkSecret(_ path: String, display: String) throws {
        guard let st = FS.stat(path) else { return }
        let mode = st.permissions & 0o777
        if mode & 0o007 != 0 {
            let octal = String(mode, radix: 8)
            throw MkosiError.config(
                "Permissions of '\(display)' of '\(String(repeating: "0", count: max(0, 4 - octal.count)) + octal)' are too open.\n"
                    + "When creating secret files use an access mode that restricts access to the owner only.",
                hint: "Run chmod 600 \(display)")
        }
    }
}

/// List values: split, optionally globbed, appended to what is there; an empty assignment resets.
enum ListParser {
    static func parse(_ value: String?, old: Value?, options o: ListOptions, env: ParseEnvironment) throws -> Value {
        let new = old?.list ?? []
        guard let value else { return .list([]) }
        var values: [String]
        if o.unescape {
            values = try ShellLexer.split(value, separators: Set(["\n"] + (o.delimiter.map { [$0] } ?? [])))
            if o.reset && values.isEmpty { return .null }
        } else if let d = o.delimiter {
            values = value.replacingOccurrences(of: String(d), with: "\n")
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if o.reset && (values.isEmpty || values == [""]) { return .null }
        } else {
            values = value.replacingOccurrences(of: ",", with: " ")
                .split(whereSeparator: { $0.isWhitespace }).map(String.init)
            if o.reset && values.isEmpty { return .null }
        }
        if o.expandGlobs {
            values = values.flatMap { Glob.expand($0, cwd: env.cwd) }
        }
        var added: [Value] = []
        for v in values where !v.isEmpty {
            added.append(try parseItem(v, o.item, env: env))
        }
        if o.sortPackages { return .list(appendSorted(new, added)) }
        return .list(new + added)
    }

    /// Package order: plain names, then paths, then conditional `(…)` specs; by name in each
    /// (code point order, as Python sorts). Stable, like upstream's `list.sort`.
    static func stableSorted(_ items: [Value]) -> [Value] {
        if isSorted(items) { return items }
        return items.enumerated().sorted { a, b in
            let o = order(a.element, b.element)
            return o != 0 ? o < 0 : a.offset < b.offset
        }.map(\.element)
    }

    /// Sorts `old + new` where `old` is usually sorted already: then only `new` is sorted and
    /// merged in (equal keys keep old items first), which is what a stable sort gives.
    static func appendSorted(_ old: [Value], _ new: [Value]) -> [Value] {
        guard isSorted(old) else { return stableSorted(old + new) }
        let added = stableSorted(new)
        var result: [Value] = []
        result.reserveCapacity(old.count + added.count)
        var i = 0, j = 0
        while i < old.count || j < added.count {
            if j == added.count || (i < old.count && order(old[i], added[j]) <= 0) {
                result.append(old[i])
                i += 1
            } else {
                result.append(added[j])
                j += 1
            }
        }
        return result
    }

    static func isSorted(_ items: [Value]) -> Bool {
        zip(items, items.dropFirst()).allSatisfy { order($0, $1) <= 0 }
    }

    /// -1, 0, 1 for the package order of two values.
    static func order(_ a: Value, _ b: Value) -> Int {
        let x = a.string ?? "", y = b.string ?? ""
        func group(_ s: String) -> Int {
            guard let f = s.utf8.first else { return 0 }
            return f == UInt8(ascii: "(") ? 2 : (f == UInt8(ascii: "/") ? 1 : 0)
        }
        let gx = group(x), gy = group(y)
        if gx != gy { return gx < gy ? -1 : 1 }
        return x.codePointCompare(y)
    }

    static func parseItem(_ v: String, _ item: ListItem, env: ParseEnvironment) throws -> Value {
        switch item {
        case .string:
            return .string(v)
        case .profile:
            let t = v.trimmed()
            if t == "." || t == ".." || v.contains("/") {
                throw MkosiError.config(
                    "\(pyrepr(v)) is not a valid profile",
                    hint: "Profiles= or --profile= requires a name with no path components.")
            }
            return .string(v)
        case .path(let options):
            return .string(try PathParser.parse(v, options, env: env))
        case .tree(let o):
            let (src, hasTarget, tgt) = v.partition(":")
            let source = try PathParser.parse(
                src, PathOptions(required: o.required, directory: o.directory), env: env)
            var target: String? = nil
            if hasTarget {
                target = try PathParser.parse(
                    tgt, PathOptions(required: false, resolve: false, expandUser: false, absolute: o.absoluteTarget),
                    env: env)
            }
            return .tree(ConfigTree(source: source, target: target))
        case .enumeration(let e):
            return .string(try e.parse(v))
        case .kernelModuleRegex:
            return .string(v == "default" || v == "host" ? v : "re:\(v)")
        case .drive:
            return .drive(try parseDrive(v, env: env))
        case .ukiProfile:
            return .ukiProfile(try UKIProfileParser.parse(v, env: env))
        }
    }

    static func parseDrive(_ value: String, env: ParseEnvironment) throws -> Drive {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 6 { throw MkosiError.config("Too many components in drive '\(value)'") }
        if parts.count < 2 { throw MkosiError.config("Missing size in drive '\(value)'") }
        let id = parts[0]
        let t = id.trimmed()
        if t == "." || t == ".." || id.contains("/") {
            throw MkosiError.config("Unsupported path character in drive id '\(id)'")
        }
        func part(_ i: Int) -> String? { parts.count > i && !parts[i].isEmpty ? parts[i] : nil }
        let flags = try (part(5)?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? [])
            .map { try ConfigEnum.driveFlag.parse($0) }
        return Drive(
            id: id, size: try ValueParser.parseBytes(parts[1]),
            directory: try part(2).map { try PathParser.parse($0, .existing, env: env) },
            options: part(3), fileId: part(4) ?? id, flags: flags)
    }
}

/// Dictionary values (`Environment=`, `OciLabels=`, …): entries merged by key.
enum DictParser {
    static func parse(_ value: String?, old: Value?, delimiter: Character?, item: DictItem, unescape: Bool) throws -> Value {
        var new = old?.dict ?? OrderedDict()
        guard let value else { return .dict(OrderedDict()) }
        var values: [String]
        if unescape {
            values = try ShellLexer.split(value, separators: Set(["\n"] + (delimiter.map { [$0] } ?? [])))
            if values.isEmpty { return .null }
        } else {
            var v = value
            if let d = delimiter { v = v.replacingOccurrences(of: String(d), with: "\n") }
            values = v.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if values == [""] { return .null }
        }
        for v in values where !v.isEmpty {
            let (key, hasValue, rest) = v.partition("=")
            let k = key.trimmed()
            switch item {
            case .environment: new[k] = hasValue ? rest.trimmed() : (Env.get(k) ?? "")
            case .keyValue: new[k] = rest.trimmed()
            }
        }
        return .dict(new)
    }
}

/// `Credentials=`: `NAME=VALUE` words, or a file or directory of credential files.
enum CredentialParser {
    static func parse(_ value: String?, old: Value?, env: ParseEnvironment) throws -> Value {
        var new = old?.list ?? []
        guard let value else { return .list([]) }
        if !value.isEmpty && !value.contains("=") {
            let path = Path.join(env.cwd, value)
            if FS.isDirectory(path) {
                let names = try FS.listDirectory(path).sorted { $0.codePointPrecedes($1) }
                for name in names where !FS.isDirectory(path + "/" + name) {
                    new.append(.credential(Credential(name: name, value: nil, path: path + "/" + name)))
                }
            } else if FS.exists(path) {
                new.append(.credential(Credential(name: Path.basename(path), value: nil, path: path)))
            } else {
                throw MkosiError.config("\(path) does not exist")
            }
            return .list(new)
        }
        let words = try ShellLexer.split(value, separators: ["\n", " "])
        if words.isEmpty { return .null }
        for w in words where !w.isEmpty {
            let (k, _, v) = w.partition("=")
            new.append(.credential(Credential(name: k.trimmed(), value: v.trimmed(), path: nil)))
        }
        return .list(new)
    }
}

/// `[UKIProfile]` files named by `UnifiedKernelImageProfiles=`.
enum UKIProfileParser {
    static func parse(_ value: String, env: ParseEnvironment) throws -> UKIProfile {
        let path = try PathParser.parse(value, .existing, env: env)
        var values: [String: Value] = [:]
        let byName = Dictionary(uniqueKeysWithValues: Settings.ukiProfileSettings.map { ($0.name, $0) })
        for entry in try IniFile.read(path, onlySections: ["UKIProfile"]) {
            guard let s = byName[entry.key] else {
                Log.warning("\(path):\(entry.line): Unknown setting \(entry.key)"
                            + NameSuggestions.setting(entry.key, among: Settings.ukiProfileSettings))
                continue
            }
            do {
                values[s.dest] = try s.parser.parse(entry.value, old: values[s.dest], env: env)
            } catch let e as MkosiError {
                throw e.located(at: "\(path):\(entry.line)")
            }
        }
        var profile = OrderedDict(), cmdline: [String] = [], sign = true
        if let p = values["profile"]?.dict { profile = p }
        if let c = values["cmdline"]?.list { cmdline = c.compactMap(\.string) }
        if let b = values["sign_expected_pcr"]?.bool { sign = b }
        return UKIProfile(profile: profile, cmdline: cmdline, signExpectedPcr: sign)
    }
}
