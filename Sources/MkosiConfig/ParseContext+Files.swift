import MkosiCore

extension ParseContext {
    /// Parses one configuration directory or file at the current precedence.
    ///
    /// For a directory D (whose `mkosi.conf` is matched first; a failed `[Match]` skips all of D):
    /// `mkosi.local/` and `mkosi.local.conf` (when `parseLocal`, promoted to command-line
    /// priority), auto-detected `mkosi.*` files, `D/mkosi.conf` (with `Include=` processed right
    /// after its line), `D/mkosi.conf.d/*` in name order (directories recursively, `*.conf`
    /// files), then `D/mkosi.profiles/<profile>` (when `parseProfiles`).
    ///
    /// - Returns: false if the top-level `[Match]` failed and nothing was parsed.
    @discardableResult
    func parseConfigOne(_ target: String, parseProfiles: Bool = false, parseLocal: Bool = false) throws -> Bool {
        let isDirectory = FS.isDirectory(target)
        let dir = isDirectory ? target : Path.dirname(target)
        let path = isDirectory ? Path.join(target, "mkosi.conf") : target

        if try !matchConfig(path) { return false }
        _ = try matchConfig(path, asserts: true)

        if isDirectory {
            if parseLocal { try parseLocalConfig(dir) }
            try parseAutoFiles(dir)
        }

        if FS.exists(path) {
            Log.debug("Loading configuration file \(path)")
            files.append(path)
            try parseFile(path)
        }

        let dropins = Path.join(dir, "mkosi.conf.d")
        if isDirectory, FS.exists(dropins) {
            for name in try FS.listDirectory(dropins).sorted(by: { $0.codePointPrecedes($1) }) {
                let p = Path.join(dropins, name)
                if FS.isDirectory(p) {
                    try within(p) { _ = try parseConfigOne(p) }
                } else if Path.suffix(name) == ".conf" {
                    try parseConfigOne(p)
                }
            }
        }

        if parseProfiles {
            for profile in try finalizeValue("profiles").strings {
                warnIfMisspelled(profile: profile)
                for candidate in [profile, "\(profile).conf"] {
                    let p = Path.join(cwd, "mkosi.profiles/\(candidate)")
                    guard FS.exists(p) else { continue }
                    if FS.isDirectory(p) {
                        try within(p) { _ = try parseConfigOne(p) }
                    } else {
                        try parseConfigOne(p)
                    }
                }
            }
        }
        return true
    }

    /// Upstream ignores a profile with no `mkosi.profiles/` entry (it may serve `[Match]
    /// Profiles=` alone). A warning names it and where it was set when it is no `[Match]`
    /// condition met so far and an entry of `mkosi.profiles/` is near enough to be the one meant.
    private func warnIfMisspelled(profile: String) {
        let dir = Path.join(cwd, "mkosi.profiles")
        guard !FS.exists(Path.join(dir, profile)), !FS.exists(Path.join(dir, "\(profile).conf")),
              !matchedProfiles.contains(profile), FS.isDirectory(dir),
              let entries = try? FS.listDirectory(dir).sorted(by: { $0.codePointPrecedes($1) }) else { return }
        let names = entries.map { $0.hasSuffix(".conf") ? String($0.dropLast(5)) : $0 }
        guard let near = Suggestion.closest(to: profile, among: names) else { return }
        let origins = (cli.origins(of: "profiles") + config.origins(of: "profiles")).map(\.description)
        Log.warningOnce("Profile \(profile)" + (origins.isEmpty ? "" : " (set by \(origins.joined(separator: ", ")))")
                        + " has no mkosi.profiles/\(profile) or mkosi.profiles/\(profile).conf (did you mean \(near)?)")
    }

    /// `mkosi.local/` then `mkosi.local.conf`; after each, everything parsed so far moves to
    /// the command-line namespace, so it beats later files but not the real command line.
    private func parseLocalConfig(_ dir: String) throws {
        var locals: [String] = []
        if FS.isDirectory(Path.join(dir, "mkosi.local")) { locals.append(Path.join(dir, "mkosi.local")) }
        if FS.isFile(Path.join(dir, "mkosi.local.conf")) { locals.append(Path.join(dir, "mkosi.local.conf")) }
        for local in locals {
            if FS.isDirectory(local) {
                try within(local) { _ = try parseConfigOne(local) }
            } else {
                try parseConfigOne(local)
            }
            for dest in Settings.dests where config.contains(dest) {
                let s = Settings.setting(dest)
                let value = try finalizeValue(s)
                cli.set(dest, value, origins: origins(s))
                config.remove(dest)
            }
        }
    }

    /// Feeds auto-detected `mkosi.*` files of `dir` to their settings, in table order.
    private func parseAutoFiles(_ dir: String) throws {
        for s in Settings.all where !prohibited(s) && (!s.pathSuffixes.isEmpty || !s.globSuffixes.isEmpty) {
            for suffix in s.pathSuffixes {
                let name = "mkosi.\(suffix)"
                let full = Path.join(dir, name)
                guard FS.exists(full) else { continue }
                if s.secret { try PathParser.checkSecret(full, display: name) }
                let raw = s.readText ? try AutoFile.runOrRead(full, in: dir).trimmingTrailingNewlines() : name
                try assignFromFile(s, raw, origin: .autoFile(path: full), location: full)
            }
            for suffix in s.globSuffixes {
                let (subdir, _, pattern) = "mkosi.\(suffix)".rpartition("/")
                let base = Path.join(dir, subdir)
                guard FS.exists(base) else { continue }
                guard FS.isDirectory(base) else { throw MkosiError.config("\(base) should be a directory, but isn't.") }
                for match in Glob.matchDirectory(base, pattern: pattern) {
                    let relative = "\(subdir)/\(Path.basename(match))"
                    if s.secret { try PathParser.checkSecret(match, display: relative) }
                    try assignFromFile(s, relative, origin: .autoFile(path: match), location: match)
                }
            }
        }
    }

    private func assignFromFile(_ s: Setting, _ raw: String, origin: Origin, location: String) throws {
        do {
            let value = try s.parser.parse(raw, old: config[s.dest], env: env)
            config.assign(s.dest, value, origin: origin, appends: s.parser.isCollection)
        } catch let e as MkosiError {
            var e = e
            if e.location == nil { e.message = "Setting \(s.name) (auto-detected file): \(e.message)" }
            throw e.located(at: location)
        }
    }

    /// Applies every setting of one file, in order.
    private func parseFile(_ path: String) throws {
        // Upstream skips unknown sections silently; a misspelled one loses all its settings.
        for case .section(let name, let line) in try cache.items(path) where !NameSuggestions.knownSections.contains(name) {
            Log.warning("\(path):\(line): Unknown section [\(name)], its settings are ignored" + NameSuggestions.section(name))
        }
        for entry in try IniFile.entries(cache.items(path), onlySections: Self.settingSections) {
            var name = entry.key
            if name.hasPrefix("@") {
                name.removeFirst()
                Log.warning("\(path): The '@' specifier is deprecated, please use \(name) instead of \(entry.key)")
            }
            guard let s = Settings.byName[name] else {
                Log.warning("\(path):\(entry.line): Unknown setting \(name)" + NameSuggestions.setting(name))
                continue
            }
            if prohibited(s) {
                throw MkosiError.config("Setting \(name) cannot be configured in \(image) image", location: "\(path):\(entry.line)")
            }
            if entry.section != s.section.rawValue {
                Log.warning("\(path): Setting \(name) should be configured in [\(s.section.rawValue)], not [\(entry.section)].")
            }
            if name != s.name {
                Log.warning("\(path): Setting \(name) is deprecated, please use \(s.name) instead.")
            }
            do {
                let expanded = try expandSpecifiers(entry.value, path: path)
                let value = try s.parser.parse(expanded, old: config[s.dest], env: env)
                config.assign(s.dest, value, origin: .file(path: path, line: entry.line), appends: s.parser.isCollection)
            } catch let e as MkosiError {
                var e = e
                if e.location == nil { e.message = "Setting \(name): \(e.message)" }
                throw e.located(at: "\(path):\(entry.line)")
            }
            try parseNewIncludes()
        }
    }

    private static let settingSections = Set(Section.allCases.map(\.rawValue) + ["Host"])

    /// Parses `Include=` targets (command line first, then configuration) not parsed yet.
    func parseNewIncludes() throws {
        let targets = (cli["include"]?.strings ?? []) + (config["include"]?.strings ?? [])
        for target in targets {
            let path = Settings.builtinConfigs.contains(target) ? try resources.path(of: target) : target
            guard let st = FS.stat(path) else { throw MkosiError.config("Include=\(target): \(path) does not exist") }
            let key = [st.device, st.inode]
            if includes.contains(key) { continue }
            includes.insert(key)
            if st.isDirectory {
                try within(path) { _ = try parseConfigOne(path, parseProfiles: true) }
            } else {
                try parseConfigOne(path)
            }
        }
    }

    /// Evaluates the `[Match]`/`[TriggerMatch]` (or, with `asserts`, `[Assert]`/`[TriggerAssert]`)
    /// sections of `path`. All `[Match]` sections must hold and one `[TriggerMatch]` section, if
    /// any. Within a section every plain condition must hold and one `|` condition, if any.
    /// A missing file matches. A failed assertion throws.
    func matchConfig(_ path: String, asserts: Bool = false) throws -> Bool {
        guard FS.exists(path) else { return true }
        let plain = asserts ? "Assert" : "Match"
        let trigger = asserts ? "TriggerAssert" : "TriggerMatch"
        var anyTriggerSection: Bool? = nil
        var section: (name: String, line: Int)? = nil
        var triggered: Bool? = nil
        var skip = false

        /// The end of a section: a failed trigger condition fails a [Match] and aborts an [Assert].
        func endSection() throws -> Bool {
            defer {
                triggered = nil
                skip = false
            }
            guard let current = section else { return true }
            if triggered == false {
                if current.name == "Assert" {
                    throw MkosiError.config("Trigger condition in [Assert] section was not satisfied", location: "\(path):\(current.line)")
                }
                if current.name == "Match" { return false }
            }
            if current.name == trigger { anyTriggerSection = (anyTriggerSection ?? false) || triggered != false }
            return true
        }

        for item in try cache.items(path) {
            switch item {
            case .error(let e):
                throw e
            case .section(let name, let line):
                if try !endSection() { return false }
                section = (name, line)
            case .sectionError(let e):
                if let current = section, current.name == plain || current.name == trigger { throw e }
            case .entry(let entry):
                guard let current = section, current.name == plain || current.name == trigger else { continue }
                if skip { continue }
                var v = entry.value
                let isTrigger = v.hasPrefix("|")
                if isTrigger { v.removeFirst() }
                let negate = v.hasPrefix("!")
                if negate { v.removeFirst() }
                v = try expandSpecifiers(v, path: path)
                var result = try evaluate(entry.key, v, section: current.name, location: "\(path):\(entry.line)", path: path)
                if negate { result.toggle() }
                if !isTrigger && !result {
                    if current.name == trigger {
                        skip = true
                        triggered = false
                        continue
                    }
                    if asserts {
                        throw MkosiError.config("\(entry.key)=\(entry.value) in [Assert] section was not satisfied",
                                                location: "\(path):\(entry.line)")
                    }
                    return false
                }
                if isTrigger { triggered = (triggered ?? false) || result }
            }
        }
        if try !endSection() { return false }
        if anyTriggerSection == false && asserts {
            throw MkosiError.config("None of the [TriggerAssert] sections was satisfied", location: path)
        }
        return anyTriggerSection != false
    }

    /// One condition.
    private func evaluate(_ key: String, _ v: String, section: String, location: String, path: String) throws -> Bool {
        if let s = Settings.byName[key] {
            if s.dest == "profiles" { matchedProfiles.formUnion(v.split(separator: " ").map(String.init)) }
            guard let matcher = s.matcher else {
                throw MkosiError.config("\(key) cannot be used in [\(section)]", location: location)
            }
            if s.scope == .main && image != "main" {
                throw MkosiError.config("\(key) cannot be matched on outside of the main image", location: location)
            }
            if key != s.name { Log.warning("\(path): Setting \(key) is deprecated, please use \(s.name) instead.") }
            let value = try finalizeValue(s)
            if value.isNull { return false }
            do {
                return try Matching.match(matcher, condition: v, value: value)
            } catch let e as MkosiError {
                var e = e
                e.message = "[\(section)] \(key)=\(v): \(e.message)"
                throw e.located(at: location)
            }
        }
        do {
            switch key {
            case "PathExists": return !v.isEmpty && FS.exists(Path.join(cwd, v))
            case "SystemdVersion": return try Matching.systemdVersion(v)
            case "HostArchitecture":
                guard let a = Architecture(rawValue: v) else { throw MkosiError.config("'\(v)' is not a valid Architecture") }
                return a == Architecture.native
            case "Image": return v == image
            default:
                let names = Settings.all.filter { $0.matcher != nil }.flatMap { [$0.name] + $0.compatNames }
                    + ["PathExists", "SystemdVersion", "HostArchitecture", "Image"]
                throw MkosiError.config("\(key) cannot be used in [\(section)]" + Suggestion.hint(for: key, among: names))
            }
        } catch let e as MkosiError {
            throw e.located(at: location)
        }
    }
}

extension String {
    /// Python's `str.rpartition`.
    func rpartition(_ separator: Character) -> (String, Bool, String) {
        guard let i = lastIndex(of: separator) else { return ("", false, self) }
        return (String(self[..<i]), true, String(self[index(after: i)...]))
    }

    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}

/// Auto-detected files whose text is the value.
enum AutoFile {
    /// The output of `path` if it is executable, else its contents. A file that starts with
    /// `#!/` but is not executable is an error.
    static func runOrRead(_ path: String, in dir: String) throws -> String {
        if FS.isExecutable(path) {
            return try HostCommand.capture([path], workingDirectory: dir).output
        }
        let content = try FS.readText(path)
        if content.hasPrefix("#!/") {
            let first = content.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? content
            throw MkosiError.config("\(path) starts with a shebang (\(first))", hint: "This file should be executable")
        }
        return content
    }
}
