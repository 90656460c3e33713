import MkosiCore

/// Reads the whole configuration of a project: the command line, the main image, the default
/// tools tree, subimages in `mkosi.images/`, the default initrd, and orders the images by their
/// dependencies.
public enum ConfigLoader {
    /// Parses `argv` (without the program name) in directory `cwd`.
    ///
    /// - Throws: `MkosiError` for usage errors (`.usage`) and configuration errors (`.config`,
    ///   located at the file and line).
    public static func load(_ argv: [String], cwd: String, resources: BuiltinResources) throws -> LoadedConfiguration {
        let parsed = try CommandLineParser.parse(argv, cwd: cwd)
        let args = parsed.args
        let invocationDirectory = args.directory ?? cwd
        var result = LoadedConfiguration(args: args, tools: nil, images: [], cwd: invocationDirectory)

        if args.help || args.version { return result }
        if args.rerunBuildScripts && !args.verb.needsBuild {
            throw MkosiError.config("--rerun-build-scripts cannot be used with the '\(args.verb.rawValue)' command")
        }
        if args.rerunBuildScripts && args.force > 0 {
            throw MkosiError.config("--force cannot be used together with --rerun-build-scripts")
        }
        if !args.cmdline.isEmpty && !args.verb.supportsCommandLine {
            throw MkosiError.usage("Arguments after verb are not supported for the '\(args.verb.rawValue)' command")
        }
        if !args.verb.needsConfig { return result }

        let context = ParseContext(resources: resources, cwd: invocationDirectory)
        context.cli = parsed.settings
        context.directory = args.directory
        let configdir = args.directory.flatMap { configDirectory(for: $0) }

        let historyDir = History.directory(for: args, cwd: invocationDirectory)
        if History.applies(args, historyDir: historyDir) {
            try History.merge(into: &context.cli, from: Path.join(historyDir, "latest.json"))
        }
        // What a new history would record: the command-line settings, finalised before any
        // configuration file is read (as upstream does).
        result.commandLineSettings = try Settings.dests.filter { context.cli.contains($0) }.map {
            (Settings.setting($0), try context.finalizeValue($0))
        }

        try context.parseNewIncludes()
        context.files = []

        if (args.autoBump && args.verb.needsBuild) || args.verb == .bump, context.cli["image_version"] == nil,
           let configdir {
            let version = try VersionBump.next(configdir: configdir)
            context.cli.assign("image_version", .string(version), origin: .commandLine(option: "--auto-bump"))
        }

        if let configdir {
            try context.within(configdir) {
                _ = try context.parseConfigOne(configdir, parseProfiles: true, parseLocal: true)
            }
        }

        var (mainValues, mainOrigins) = try context.finalize()
        let mainContext = context.copy()

        // The default tools tree.
        let toolsTreeSetting = mainValues["tools_tree"]?.string
        if (toolsTreeSetting == "default" || toolsTreeSetting == "yes"), Env.get("MKOSI_IN_BOX") == "1",
           let inBox = Env.get("MKOSI_DEFAULT_TOOLS_TREE_PATH") {
            // Inside `mkosi box` the tools tree is the one the box runs in, as upstream.
            mainValues["tools_tree"] = .string(inBox)
        } else if toolsTreeSetting == "default" || toolsTreeSetting == "yes" {
            let tools = try DerivedImages.tools(main: context, finalized: mainValues, configdir: configdir, cwd: invocationDirectory)
            result.tools = tools
            mainValues["tools_tree"] = .string(Path.join(tools.outputDirectoryOrDefault(cwd: invocationDirectory), tools.output))
        } else if toolsTreeSetting == "no" {
            mainValues["tools_tree"] = .null
        }

        // Subimages: universal settings are forced on them, inherited ones seeded, others dropped.
        let dependenciesExplicit = context.cli.contains("dependencies") || context.config.contains("dependencies")
        var defaultDependencies: [String] = []
        for s in Settings.all {
            if s.scope == .universal || s.scope == .multiversal {
                context.cli.set(s.dest, mainValues[s.dest] ?? .null, origins: [.mainImage])
            } else if context.cli.contains(s.dest) {
                context.cli.remove(s.dest)
            }
        }

        var subimages: [Config] = []
        if let configdir {
            let imagesDir = Path.join(configdir, "mkosi.images")
            if FS.exists(imagesDir) {
                for name in try FS.listDirectory(imagesDir).sorted(by: { $0.codePointPrecedes($1) }) {
                    let p = Path.join(imagesDir, name)
                    let isDir = FS.isDirectory(p)
                    if !isDir && Path.suffix(name) != ".conf" { continue }
                    let imageName = isDir ? name : String(name.dropLast(".conf".count))
                    if imageName.isEmpty { throw MkosiError.config("\(p) is not a valid image name") }

                    context.config = Namespace()
                    context.image = imageName
                    context.files = []
                    for s in Settings.all where s.scope == .inherit {
                        if let v = mainValues[s.dest] { context.config.set(s.dest, v, origins: [.mainImage]) }
                    }
                    context.config.set("environment", passedEnvironment(mainValues), origins: [.mainImage])
                    context.includes = []
                    context.defaults = [:]

                    let matched = try context.within(isDir ? p : invocationDirectory) {
                        try context.parseConfigOne(p, parseProfiles: isDir, parseLocal: true)
                    }
                    if !matched { continue }
                    let (values, origins) = try context.finalize()
                    subimages.append(Config(image: imageName, files: context.files, values: values, origins: origins,
                                            directory: args.directory))
                    defaultDependencies.append(imageName)
                }
            }
        }
        if !dependenciesExplicit {
            mainValues["dependencies"] = .list(defaultDependencies.map(Value.string))
        }

        var main = Config(image: "main", files: mainContext.files, values: mainValues, origins: mainOrigins,
                          directory: args.directory)

        // The default initrd, when an image asks for it with Initrds=default.
        if (subimages + [main]).contains(where: { $0.initrds.contains("default") }) {
            let initrd = try DerivedImages.initrd(main: mainContext, finalized: mainValues, configdir: configdir,
                                                  cwd: invocationDirectory)
            let initrdPath = Path.join(initrd.outputDirectoryOrDefault(cwd: invocationDirectory), initrd.output)
            func useInitrd(_ c: Config) -> Config {
                guard c.initrds.contains("default") else { return c }
                return c.with("initrds", .list(c.initrds.map { .string($0 == "default" ? initrdPath : $0) }))
                    .with("dependencies", .list((c.dependencies + [initrd.image]).map(Value.string)))
            }
            main = useInitrd(main)
            subimages = subimages.map(useInitrd) + [initrd]
        }

        result.images = try DependencyOrder.resolve(subimages, include: main.dependencies) + [main]
        return result
    }

    /// The configuration directory of `directory`: itself, or its `mkosi/` subdirectory when it
    /// has no `mkosi.conf` or `mkosi.tools.conf` but the subdirectory does.
    public static func configDirectory(for directory: String) -> String? {
        let top = FS.exists(Path.join(directory, "mkosi.conf")) || FS.exists(Path.join(directory, "mkosi.tools.conf"))
        let sub = Path.join(directory, "mkosi")
        if !top && (FS.isFile(Path.join(sub, "mkosi.conf")) || FS.exists(Path.join(sub, "mkosi.tools.conf"))) {
            return sub
        }
        return directory
    }

    /// The main image's `Environment=` entries named in `PassEnvironment=`.
    static func passedEnvironment(_ values: [String: Value]) -> Value {
        let env = values["environment"]?.dict ?? OrderedDict()
        var passed = OrderedDict()
        for name in values["pass_environment"]?.strings ?? [] {
            if let v = env[name] { passed[name] = v }
        }
        return .dict(passed)
    }
}

/// Orders images so that each comes after its dependencies.
public enum DependencyOrder {
    /// The images reachable from `include` through `Dependencies=`, in topological order (ties
    /// broken as upstream's graphlib breaks them).
    ///
    /// - Throws: for a dependency that names no image, and for a cycle.
    public static func resolve(_ images: [Config], include: [String]) throws -> [Config] {
        var graph: [String: [String]] = [:]
        for c in images { graph[c.image] = c.dependencies }
        for name in include where graph[name] == nil {
            throw MkosiError.config("No image found with name \(name)",
                                    hint: "Dependencies= must name images in mkosi.images/")
        }
        var reachable: Set<String> = []
        var queue = include
        while !queue.isEmpty {
            let name = queue.removeFirst()
            if reachable.contains(name) { continue }
            reachable.insert(name)
            guard let deps = graph[name] else { continue }
            for d in deps where graph[d] == nil {
                throw MkosiError.config("Image \(name) depends on \(d), but no image is named \(d)",
                                        hint: "Dependencies= must name images in mkosi.images/")
            }
            queue += deps
        }
        let selected = images.filter { reachable.contains($0.image) }

        // Kahn's algorithm, nodes in first-seen order (each image, then its dependencies).
        var order: [String] = []
        var npred: [String: Int] = [:]
        var successors: [String: [String]] = [:]
        var nodes: [String] = []
        func node(_ n: String) {
            if npred[n] == nil {
                npred[n] = 0
                nodes.append(n)
            }
        }
        for c in selected {
            node(c.image)
            npred[c.image, default: 0] += c.dependencies.count
            for d in c.dependencies {
                node(d)
                successors[d, default: []].append(c.image)
            }
        }
        var ready = nodes.filter { npred[$0] == 0 }
        while !ready.isEmpty {
            let group = ready
            ready = []
            order += group
            for n in group {
                for s in successors[n] ?? [] {
                    npred[s]! -= 1
                    if npred[s] == 0 { ready.append(s) }
                }
            }
        }
        if order.count < nodes.count {
            let stuck = nodes.filter { !order.contains($0) }
            throw MkosiError.config("Image dependency cycle detected: \((stuck + [stuck[0]]).joined(separator: " => "))")
        }
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return selected.sorted { position[$0.image]! < position[$1.image]! }
    }
}
