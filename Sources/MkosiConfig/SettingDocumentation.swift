import MkosiCore

/// The parts of a setting's manual entry that follow from the settings table: its term line
/// (name and options) and a paragraph of facts (value, default, scope, old names, well-known
/// files, specifier, `[Match]`, tools tree, and whether this implementation honours it). The
/// manual's prose for the setting says what it is for; these parts are generated so that they
/// cannot disagree with the code (`Manual` puts the two together).
extension Setting {
    /// `` `Name=`, `--long=`, `-s` ``, as upstream's manual writes an entry's term.
    public var manualTerm: String {
        var parts = ["`\(name)=`"]
        parts.append(dest == "checksum" ? "`\(long)[=BOOL]`" : "`\(long)=`")
        if let short { parts.append("`\(short)`") }
        return parts.joined(separator: ", ")
    }

    /// The generated facts of the entry, as one paragraph of short sentences.
    public var manualFacts: String {
        var sentences: [String] = []
        sentences.append("*Value:* \(Setting.describe(parser))")
        sentences.append("*Default:* \(manualDefault)")
        if scope != .local { sentences.append("*Scope:* \(Setting.describe(scope))") }
        if let short, let constant {
            sentences.append("*Short flag:* `\(short)` alone means `\(long)=\(SupportReport.render(constant))`")
        }
        if !compatNames.isEmpty || !compatLongs.isEmpty {
            let old = compatNames.map { "`\($0)=`" } + compatLongs.map { "`\($0)`" }
            sentences.append("*Old names, still accepted:* " + old.joined(separator: ", "))
        }
        let files = pathSuffixes.map { "`mkosi.\($0)`" } + globSuffixes.map { "`mkosi.\($0)`" }
        if !files.isEmpty {
            var text = (files.count == 1 ? "*Well-known file:* " : "*Well-known files:* ") + files.joined(separator: ", ")
            if readText { text += " (its text, or its output if it is executable)" }
            if secret { text += ", which must not be accessible by others" }
            sentences.append(text)
        }
        if let specifier { sentences.append("*Specifier:* `%\(specifier)`") }
        if matcher != nil { sentences.append("*Condition:* can be tested in `[Match]` sections") }
        if toolsOK { sentences.append("*Tools tree:* may be set in its configuration (`mkosi.tools.conf`)") }
        sentences.append("*This implementation:* \(manualSupport)")
        return sentences.map { $0 + "." }.joined(separator: " ")
    }

    /// The default as it would be written in a configuration file, or where it comes from.
    public var manualDefault: String {
        if factory != nil { return "computed, see below" }
        let value = Settings.staticDefault(dest)
        if dest == "seed", value == .string(Settings.randomSeed) { return "a new random UUID on every run" }
        switch value {
        case .int(let n) where Setting.isBytes(parser): return "`\(Setting.size(n))`"
        case .list(let l) where !l.isEmpty: return l.map { "`\(SupportReport.render($0))`" }.joined(separator: ", ")
        case .null: return "none"
        case .list(let l) where l.isEmpty: return "none"
        case .dict(let d) where d.pairs.isEmpty: return "none"
        case .string(let s) where s.isEmpty: return "none"
        case .string(let s) where Setting.isFeature(parser):
            return s == "enabled" ? "`yes`" : s == "disabled" ? "`no`" : "`\(s)`"
        case .keySource(let type, let source): return "`\(source.isEmpty ? type : "\(type):\(source)")`"
        case .int(let n) where Setting.isVsockCID(parser): return n == -2 ? "`hash`" : "`auto`"
        default: return "`\(SupportReport.render(value))`"
        }
    }

    /// Whether and where this implementation acts on the setting, from `support`.
    public var manualSupport: String {
        var text: String
        switch support.status {
        case .honoured: text = "honoured"
        case .configuration: text = "used by the configuration engine itself"
        case .notYet(let impact):
            text = impact == .refuse
                ? "not honoured yet; a value other than the default stops the build before any work, naming where it was set"
                : "not honoured yet; a value other than the default is warned about, naming where it was set, and has no effect"
        case .values(let impact, _, let what):
            text = "honoured, except \(what), which "
                + (impact == .refuse ? "stops the build before any work" : "is warned about and has no effect")
        }
        var limits: [String] = []
        if let formats = support.formats {
            limits.append("`Format=` " + OutputFormat.allCases.filter(formats.contains).map { "`\($0.rawValue)`" }.joined(separator: ", "))
        }
        if let applies = support.distributions {
            limits.append(Distribution.allCases.filter(applies).map { "`\($0.rawValue)`" }.joined(separator: ", "))
        }
        if let condition = support.condition { limits.append("not when \(condition.unless)") }
        if !limits.isEmpty {
            text += "; it means something only for " + limits.joined(separator: "; ")
                + " (elsewhere a value is warned about as having no effect)"
        }
        return text
    }

    static func isBytes(_ parser: ValueParser) -> Bool {
        if case .bytes = parser { return true }
        return false
    }

    /// A byte count with the largest suffix that divides it (`2G`).
    static func size(_ n: Int) -> String {
        for (suffix, unit) in [("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)] where n > 0 && n % unit == 0 {
            return "\(n / unit)\(suffix)"
        }
        return String(n)
    }

    static func isVsockCID(_ parser: ValueParser) -> Bool {
        if case .vsockCID = parser { return true }
        return false
    }

    static func isFeature(_ parser: ValueParser) -> Bool {
        if case .feature = parser { return true }
        return false
    }

    /// The scope's name, as *Scopes* in the manual explains it.
    static func describe(_ scope: Scope) -> String {
        switch scope {
        case .local: return "local"
        case .universal: return "universal"
        case .multiversal: return "multiversal"
        case .inherit: return "inherit"
        case .main: return "main"
        case .tools: return "tools (becomes the tools tree's setting without `ToolsTree`)"
        case .initrd: return "initrd (becomes the default initrd's setting without `Initrd`)"
        case .initrdInherit: return "initrd-inherit"
        }
    }

    static func choices(_ e: ConfigEnum) -> String {
        e.values.map { "`\($0)`" }.joined(separator: ", ")
    }

    static func describe(_ parser: ValueParser) -> String {
        switch parser {
        case .string: return "a string"
        case .boolean: return "a boolean"
        case .feature: return "a boolean or `auto`"
        case .enumeration(let e): return "one of \(choices(e))"
        case .enumOrBoolean(let e, let yes, let no):
            return "one of \(choices(e)), or in configuration files a boolean (yes means `\(yes)`, no `\(no)`)"
        case .compression:
            return "one of \(choices(ConfigEnum(Compression.self))) (also `zst`, `gzip`), or a boolean (yes means `zstd`)"
        case .uuid: return "a UUID, or `random`"
        case .sourceDateEpoch: return "a number of seconds since the epoch"
        case .compressLevel, .number: return "a number"
        case .mode: return "an octal file mode"
        case .bytes: return "a size in bytes, with an optional `K`, `M` or `G` suffix"
        case .sectorSize: return "a power of two from 512 to 4096"
        case .vsockCID: return "a number from 3 to 0xFFFFFFFE, `hash` or `auto`"
        case .minimumVersion: return "a version, or `commit:HASH`"
        case .path(let options): return describe(options, what: "a path")
        case .key: return "a private key file (secret), or an identifier for an OpenSSL engine or provider"
        case .certificate: return "a certificate file, or an identifier for an OpenSSL provider"
        case .keySource: return "`file`, `engine:NAME` or `provider:NAME`"
        case .certificateSource: return "`file` or `provider:NAME`"
        case .filename: return "a file name without `/`"
        case .rootPassword: return "a password, or `hashed:` followed by a password hash"
        case .artifactList:
            return "a list of \(choices(ConfigEnum(ArtifactOutput.self))), or a boolean (the old form)"
        case .list(let options): return describe(options)
        case .dict(_, let item, _):
            return item == .environment
                ? "a list of `NAME=VALUE` (whitespace-separated, shell-quoted; `NAME` alone takes mkosi's own value)"
                : "a list of `KEY=VALUE` (whitespace-separated)"
        case .credentials:
            return "a list of `NAME=VALUE`, or paths of files and directories (whitespace-separated, shell-quoted)"
        }
    }

    static func describe(_ options: PathOptions, what: String) -> String {
        var text = options.directory ? "a directory" : what
        var notes: [String] = []
        if options.absolute { notes.append("absolute") }
        if !options.required { notes.append("need not exist") }
        if options.secret { notes.append("secret") }
        if !notes.isEmpty { text += " (" + notes.joined(separator: ", ") + ")" }
        if !options.constants.isEmpty { text += ", or " + options.constants.map { "`\($0)`" }.joined(separator: ", ") }
        return text
    }

    static func describe(_ options: ListOptions) -> String {
        let item: String
        switch options.item {
        case .string: item = "strings"
        case .profile: item = "profile names"
        case .path(let p): item = describe(p, what: "paths")
        case .tree: item = "trees `SRC[:DST]`"
        case .enumeration(let e): item = choices(e)
        case .drive: item = "drives `ID:SIZE[:DIR[:OPTIONS[:FILEID[:FLAGS]]]]`"
        case .kernelModuleRegex: item = "regular expressions"
        case .ukiProfile: item = "paths of `[UKIProfile]` files"
        }
        var notes: [String] = []
        if let d = options.delimiter { notes.append(d == " " ? "whitespace-separated" : "separated by `\(d)`") }
        if options.unescape { notes.append("shell-quoted") }
        if options.expandGlobs { notes.append("globs expanded") }
        if !options.reset { notes.append("an empty value does not reset it") }
        return "a list of \(item)" + (notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")")
    }
}
