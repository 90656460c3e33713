import MkosiCore

/// The images mkosi adds by itself: the default tools tree and the default initrd.
enum DerivedImages {
    /// The `tools` image for `ToolsTree=default`: multiversal settings are forced, `ToolsTree*`
    /// settings become its plain settings (at the precedence they had in the main image),
    /// `Format=directory`; then `mkosi.tools.conf` and the built-in `mkosi-tools` are parsed.
    static func tools(main: ParseContext, finalized: [String: Value], configdir: String?, cwd: String) throws -> Config {
        let context = main.sibling()
        context.cwd = cwd
        for s in Settings.all {
            if s.scope == .multiversal {
                context.cli.set(s.dest, finalized[s.dest] ?? .null, origins: [.mainImage])
            } else if s.scope == .tools {
                carry(s, from: main, finalized: finalized, into: context)
            }
        }
        context.cli.set("output_format", .string("directory"), origins: [.mainImage])
        return try finish(context, image: "tools", main: main, finalized: finalized, configdir: configdir,
                          localName: "mkosi.tools.conf", builtin: "mkosi-tools")
    }

    /// The `default-initrd` image: universal and multiversal settings are forced, inherited ones
    /// seeded, `Initrd*` settings become its `Packages=`/`VolatilePackages=`/`Profiles=`; then
    /// `mkosi.initrd.conf` and the built-in `mkosi-initrd` are parsed.
    static func initrd(main: ParseContext, finalized: [String: Value], configdir: String?, cwd: String) throws -> Config {
        let context = main.sibling()
        context.cwd = cwd
        for s in Settings.all {
            switch s.scope {
            case .universal, .multiversal:
                context.cli.set(s.dest, finalized[s.dest] ?? .null, origins: [.mainImage])
            case .inherit, .initrdInherit:
                if let v = finalized[s.dest] { context.config.set(s.dest, v, origins: [.mainImage]) }
            case .initrd:
                carry(s, from: main, finalized: finalized, into: context)
            default:
                break
            }
        }
        return try finish(context, image: "default-initrd", main: main, finalized: finalized, configdir: configdir,
                          localName: "mkosi.initrd.conf", builtin: "mkosi-initrd")
    }

    /// Copies a prefixed setting to its plain name in the same namespace it had in the main image.
    private static func carry(_ s: Setting, from main: ParseContext, finalized: [String: Value], into context: ParseContext) {
        let dest = s.unprefixedDest
        let value = finalized[s.dest] ?? .null
        if main.cli.contains(s.dest) {
            if main.cli.wasNone.contains(s.dest) { context.cli.wasNone.insert(dest) }
            context.cli.set(dest, value, origins: main.cli.origins(of: s.dest))
        } else if main.config.contains(s.dest) {
            context.config.set(dest, value, origins: main.config.origins(of: s.dest))
        } else {
            context.defaults[dest] = value
        }
    }

    private static func finish(
        _ context: ParseContext, image: String, main: ParseContext, finalized: [String: Value], configdir: String?,
        localName: String, builtin: String
    ) throws -> Config {
        context.image = image
        context.directory = main.directory
        context.files = []
        context.config.set("environment", ConfigLoader.passedEnvironment(finalized), origins: [.mainImage])

        if let configdir {
            let local = Path.join(configdir, localName)
            if FS.exists(local) {
                let isDir = FS.isDirectory(local)
                try context.within(isDir ? local : context.cwd) {
                    _ = try context.parseConfigOne(local, parseProfiles: isDir, parseLocal: isDir)
                }
            }
        }
        let resource = try context.resources.path(of: builtin)
        try context.within(resource) {
            _ = try context.parseConfigOne(resource, parseProfiles: true)
        }
        let (values, origins) = try context.finalize()
        return Config(image: image, files: context.files, values: values, origins: origins, directory: main.directory)
    }
}

/// `mkosi bump` and `-B`: the next image version.
public enum VersionBump {
    /// Runs `mkosi.bump` if present; otherwise increments the last numeric component of
    /// `mkosi.version` (appending `.2` if it is not numeric), or starts at `1`.
    public static func next(configdir: String) throws -> String {
        let versionFile = Path.join(configdir, "mkosi.version")
        if FS.exists(versionFile) && FS.isExecutable(versionFile) {
            throw MkosiError.config("Cannot bump image version, '\(versionFile)' is executable")
        }
        let current = FS.exists(versionFile) ? try FS.readText(versionFile).trimmed() : nil
        let bump = Path.join(configdir, "mkosi.bump")
        let new: String
        if FS.exists(bump) {
            new = try HostCommand.capture([bump], workingDirectory: configdir).output.trimmed()
        } else if let current {
            var parts = current.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if let last = parts.last, let n = Int(last) {
                parts[parts.count - 1] = String(n + 1)
            } else {
                parts.append("2")
                Log.warning("Last component of current version is not a decimal integer, appending '.2'")
            }
            new = parts.joined(separator: ".")
        } else {
            new = "1"
        }
        Log.info("Bumping version: '\(current ?? "n/a")' → '\(new)'")
        return new
    }
}
