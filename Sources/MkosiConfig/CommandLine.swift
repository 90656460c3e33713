#if canImport(Glibc)
import Glibc
#endif
import MkosiCore

/// The parsed command line: global options and the settings given as options.
public struct ParsedCommandLine: Sendable {
    public var args = Args()
    /// Settings given as options, in the CLI namespace.
    public var settings = Namespace()
}

/// Parses `mkosi [options…] [verb] [args…]` as upstream's argparse parser does:
///
/// - options may come before and after the verb; the verb and the arguments after it must form
///   one contiguous run of positional words (anything for the verb goes after `--`);
/// - long options take their value as the next word or after `=`; short options also as the
///   rest of the word (`-pvim`); flags can be clustered (`-fff`, `-if`);
/// - `-C DIR` changes the directory immediately, so later relative paths resolve against it;
/// - setting options are parsed with the setting's own parser, in order; an empty value resets.
///
/// Errors in the usage (unknown option, missing or invalid value for a choice) are
/// `MkosiError.usage` (exit 2); invalid setting values are `MkosiError.config` (exit 1).
public enum CommandLineParser {
    enum GlobalOption: Sendable {
        case force, directory, debug, debugShell, debugWorkspace, debugSandbox, debugTiming, noPager
        case genkeyValidDays, genkeyCommonName, autoBump, docFormat, json, wipeBuildDir, rerunBuildScripts
        case ignoredFlag, ignoredWithValue, help, version, showOrigin

        var takesValue: Bool {
            switch self {
            case .directory, .genkeyValidDays, .genkeyCommonName, .docFormat, .ignoredWithValue: return true
            default: return false
            }
        }
    }

    static let globalOptions: [String: GlobalOption] = [
        "-f": .force, "--force": .force, "-C": .directory, "--directory": .directory, "--debug": .debug,
        "--debug-shell": .debugShell, "--debug-workspace": .debugWorkspace, "--debug-sandbox": .debugSandbox,
        "--debug-timing": .debugTiming, "--no-pager": .noPager, "--genkey-valid-days": .genkeyValidDays,
        "--genkey-common-name": .genkeyCommonName, "-B": .autoBump, "--auto-bump": .autoBump,
        "--doc-format": .docFormat, "--json": .json, "-w": .wipeBuildDir, "--wipe-build-dir": .wipeBuildDir,
        "-R": .rerunBuildScripts, "--rerun-build-scripts": .rerunBuildScripts,
        "--nspawn-keep-unit": .ignoredFlag, "--default": .ignoredWithValue, "--cache": .ignoredWithValue,
        "--runtime-scratch": .ignoredWithValue, "-h": .help, "--help": .help, "--version": .version,
        "--show-origin": .showOrigin,
    ]

    enum Action {
        case global(GlobalOption)
        /// A setting option taking a value (optional for `--checksum`).
        case setting(Setting, optionalValue: Bool)
        /// A short flag storing a constant (`-i`, `-T`, `-a`).
        case constant(Setting, Value)

        var takesValue: Bool {
            switch self {
            case .global(let g): return g.takesValue
            case .setting: return true
            case .constant: return false
            }
        }
    }

    static let actions: [String: Action] = {
        var map: [String: Action] = [:]
        for (k, v) in globalOptions { map[k] = .global(v) }
        for s in Settings.all {
            if let short = s.short {
                if let c = s.constant { map[short] = .constant(s, c) } else { map[short] = .setting(s, optionalValue: false) }
            }
            for long in [s.long] + s.compatLongs {
                map[long] = .setting(s, optionalValue: s.dest == "checksum")
            }
        }
        return map
    }()

    enum Kind { case option, positional, separator }

    static func classify(_ argv: [String]) -> [Kind] {
        var kinds: [Kind] = []
        var rest = false
        for a in argv {
            if rest {
                kinds.append(.positional)
            } else if a == "--" {
                kinds.append(.separator)
                rest = true
            } else {
                kinds.append(isOption(a) ? .option : .positional)
            }
        }
        return kinds
    }

    static func isOption(_ a: String) -> Bool {
        guard a.hasPrefix("-"), a.count > 1 else { return false }
        if actions[a] != nil { return true }
        if a.hasPrefix("--"), let eq = a.firstIndex(of: "="), actions[String(a[..<eq])] != nil { return true }
        if !a.hasPrefix("--"), actions[String(a.prefix(2))] != nil { return true }
        if Double(a) != nil { return false }
        if a.contains(" ") { return false }
        return true
    }

    /// Parses `argv` (without the program name), starting in directory `cwd`.
    public static func parse(_ argv: [String], cwd: String) throws -> ParsedCommandLine {
        var result = ParsedCommandLine()
        result.args.directory = cwd
        result.args.genkeyCommonName = "mkosi of \(currentUserName())"
        var state = State(cwd: cwd)
        let kinds = classify(argv)
        var positionalsDone = false
        var extras: [String] = []
        var i = 0

        while i < argv.count {
            if kinds[i] == .option {
                i = try consumeOption(argv, kinds, at: i, into: &result, state: &state, extras: &extras)
                continue
            }
            var j = i
            while j < argv.count && kinds[j] != .option { j += 1 }
            if positionalsDone {
                extras += argv[i..<j]
            } else {
                positionalsDone = true
                // An unknown option just before: its value was taken for the verb.
                let before = i > 0 && extras.last == argv[i - 1] && !argv[i - 1].contains("=") ? argv[i - 1] : nil
                try assignPositionals(Array(argv[i..<j]), Array(kinds[i..<j]), into: &result.args, unknownOptionBefore: before)
            }
            i = j
        }
        if !extras.isEmpty {
            throw MkosiError.usage("unrecognized arguments: \(extras.joined(separator: " "))" + optionSuggestions(extras))
        }
        return result
    }

    struct State {
        var cwd: String
    }

    /// The verb takes the first word (with `--` around it), the arguments after it the rest.
    static func assignPositionals(_ words: [String], _ kinds: [Kind], into args: inout Args,
                                  unknownOptionBefore: String? = nil) throws {
        var k = 0
        while k < words.count && kinds[k] == .separator { k += 1 }
        if k < words.count {
            guard let verb = Verb(rawValue: words[k]) else {
                let meant = k == 0 ? unknownOptionBefore.flatMap { o in
                    NameSuggestions.option(o).map { " (\(o) is not an option: did you mean \($0) \(words[k])?)" }
                } : nil
                throw MkosiError.usage("argument verb: invalid Verb value: \(pyrepr(words[k]))" + (meant ?? NameSuggestions.verb(words[k])))
            }
            args.verb = verb
            k += 1
            while k < words.count && kinds[k] == .separator { k += 1 }
        }
        var rest = Array(words[k...])
        if let dd = rest.firstIndex(of: "--"), kinds[k + dd] == .separator { rest.remove(at: dd) }
        args.cmdline = rest
    }

    /// Handles the option at `argv[i]`; returns the index after everything it consumed.
    static func consumeOption(
        _ argv: [String], _ kinds: [Kind], at i: Int, into result: inout ParsedCommandLine, state: inout State,
        extras: inout [String]
    ) throws -> Int {
        let word = argv[i]
        var next = i + 1
        // Resolve the word into (option, action, explicit value) steps; short flags may cluster.
        var option = word
        var explicit: String? = nil
        if word.hasPrefix("--") {
            if actions[word] == nil, let eq = word.firstIndex(of: "=") {
                option = String(word[..<eq])
                explicit = String(word[word.index(after: eq)...])
            }
        } else if actions[word] == nil {
            option = String(word.prefix(2))
            explicit = String(word.dropFirst(2))
        }
        guard var action = actions[option] else {
            extras.append(word)
            return next
        }
        // Short flags followed by more characters: each character is another short option.
        while !action.takesValue, let rest = explicit, !option.hasPrefix("--") {
            try apply(action, option: option, value: nil, into: &result, state: &state)
            let nextOption = "-" + String(rest.prefix(1))
            guard let nextAction = actions[nextOption] else {
                throw MkosiError.usage("argument \(option): ignored explicit argument \(pyrepr(rest))")
            }
            option = nextOption
            action = nextAction
            explicit = rest.count > 1 ? String(rest.dropFirst()) : nil
        }
        if !action.takesValue {
            if let explicit {
                throw MkosiError.usage("argument \(option): ignored explicit argument \(pyrepr(explicit))")
            }
            try apply(action, option: option, value: nil, into: &result, state: &state)
            return next
        }
        var value = explicit
        if value == nil {
            if next < argv.count && kinds[next] == .positional {
                value = argv[next]
                next += 1
            } else if case .setting(_, optionalValue: true) = action {
                value = "yes"
            } else {
                throw MkosiError.usage("argument \(displayName(option)): expected one argument")
            }
        }
        try apply(action, option: option, value: value, into: &result, state: &state)
        return next
    }

    static func displayName(_ option: String) -> String {
        guard let action = actions[option], case .setting(let s, _) = action, let short = s.short,
              option == short || option == s.long else { return option }
        return "\(s.long)/\(short)"
    }

    static func apply(_ action: Action, option: String, value: String?, into result: inout ParsedCommandLine, state: inout State) throws {
        switch action {
        case .constant(let s, let c):
            result.settings.assign(s.dest, c, origin: .commandLine(option: option))
        case .setting(let s, _):
            let v = value ?? ""
            if let choices = s.choices, !choices.contains(v) {
                let list = choices.map(pyrepr).joined(separator: ", ")
                throw MkosiError.usage("argument \(displayName(option)): invalid choice: \(pyrepr(v)) (choose from \(list))")
            }
            let parsed: Value
            do {
                parsed = try s.parser.parse(v, old: result.settings[s.dest], env: ParseEnvironment(cwd: state.cwd))
            } catch let e as MkosiError {
                var e = e
                e.message = "\(option): \(e.message)"
                throw e
            }
            if parsed.isNull { result.settings.wasNone.insert(s.dest) }
            result.settings.assign(s.dest, parsed, origin: .commandLine(option: option), appends: s.parser.isCollection)
        case .global(let g):
            try applyGlobal(g, option: option, value: value, args: &result.args, state: &state)
        }
    }

    static func applyGlobal(_ g: GlobalOption, option: String, value: String?, args: inout Args, state: inout State) throws {
        switch g {
        case .force: args.force += 1
        case .directory:
            let v = value ?? ""
            if v.isEmpty {
                args.directory = nil
                return
            }
            // Resolved like the physical working directory after a chdir(); the entry point
            // changes into it once parsing is done.
            let target = Path.resolve(v, cwd: state.cwd)
            guard FS.isDirectory(target), access(target, X_OK) == 0 else {
                throw MkosiError.config("\(v) is not a directory!")
            }
            state.cwd = target
            args.directory = target
        case .debug:
            args.debug = true
            Log.setDebug(true)
        case .debugShell: args.debugShell = true
        case .debugWorkspace: args.debugWorkspace = true
        case .debugSandbox: args.debugSandbox = true
        case .debugTiming: args.debugTiming = true
        case .noPager: args.pager = false
        case .genkeyValidDays: args.genkeyValidDays = value ?? ""
        case .genkeyCommonName: args.genkeyCommonName = value ?? ""
        case .autoBump: args.autoBump = true
        case .docFormat:
            let v = value ?? ""
            guard ConfigEnum.docFormat.contains(v) else {
                let list = ConfigEnum.docFormat.values.map(pyrepr).joined(separator: ", ")
                throw MkosiError.usage("argument --doc-format: invalid choice: \(pyrepr(v)) (choose from \(list))")
            }
            args.docFormat = v
        case .json: args.json = true
        case .wipeBuildDir: args.wipeBuildDir = true
        case .rerunBuildScripts: args.rerunBuildScripts = true
        case .ignoredFlag, .ignoredWithValue: Log.warning("\(option) is no longer supported")
        case .help: args.help = true
        case .version: args.version = true
        case .showOrigin: args.showOrigin = true
        }
    }

    /// ` (did you mean --package?)` for unknown options among `extras` that are near a real
    /// one (`--package instead of --pacakge, …` when there are several).
    static func optionSuggestions(_ extras: [String]) -> String {
        let pairs = extras.compactMap { word in NameSuggestions.option(word).map { (word, $0) } }
        if pairs.isEmpty { return "" }
        if extras.count == 1, let only = pairs.first { return " (did you mean \(only.1)?)" }
        return " (did you mean " + pairs.map { "\($0.1) instead of \($0.0)" }.joined(separator: ", ") + "?)"
    }

    static func currentUserName() -> String {
        if let pw = getpwuid(Privileges.hostUID) { return String(cString: pw.pointee.pw_name) }
        return Env.get("USER") ?? "root"
    }
}
