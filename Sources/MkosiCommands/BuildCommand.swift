#if canImport(Glibc)
import Glibc
#endif
import MkosiBuild
import MkosiConfig
import MkosiCore

/// `mkosi build`: builds every image in order (subimages, then the main image). An existing
/// output is kept unless `-f` is given.
enum BuildCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        let loaded = try ConfigureScripts.run(loaded)
        guard let main = loaded.main else { return }
        if loaded.tools != nil {
            throw MkosiError(.unsupported, "ToolsTree=default is not implemented yet",
                             hint: "Build without a tools tree (ToolsTree=) for now")
        }
        if Output.exists(main, cwd: loaded.cwd) && loaded.args.force == 0 {
            Log.info("Output path \(Path.join(main.outputDirectoryOrDefault(cwd: loaded.cwd), main.outputWithCompression)) exists already. (Use --force to rebuild.)")
            return
        }
        // Earlier outputs are replaced only once the new ones are complete, so a failed build
        // leaves them as they were (upstream removes them first with -f).
        let packages = try temporaryDirectory(for: main, prefix: "mkosi-packages")
        defer { FS.removeTree(packages) }
        for image in loaded.images {
            try Pipeline.build(image, args: loaded.args, cwd: loaded.cwd, packageDirectory: packages)
        }
        if main["history"].bool == true && History.wantsNew(loaded.args) {
            try History.write(loaded.commandLineSettings, to: History.directory(for: loaded.args, cwd: loaded.cwd))
        }
    }
}

/// A fresh directory below the workspace directory, for the duration of one build.
func temporaryDirectory(for config: Config, prefix: String) throws -> String {
    let base = config["workspace_dir"].string ?? UserDirectories.defaultWorkspace()
    try FS.makeDirectories(base)
    var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw FS.systemError("Cannot create a directory in \(base)") }
    return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `mkosi clean`: removes the outputs of every image and the saved history; with `-f` also the
/// incremental caches; with `-ff` also the downloaded repository metadata (downloaded packages
/// are kept, as upstream keeps them).
enum CleanCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        for image in loaded.images {
            Output.remove(image, cwd: loaded.cwd)
            try Pipeline.runCleanScripts(image, args: loaded.args, cwd: loaded.cwd)
            if loaded.args.force > 0, let cacheDir = image["cache_dir"].string {
                let key = image.expandKeySpecifiers(image["cache_key"].string ?? "&d~&r~&a~&I")
                for suffix in [".cache", ".build.cache", ".manifest"] { FS.removeTree(Path.join(cacheDir, key + suffix)) }
            }
            if loaded.args.force > 1 {
                let key = "\(image.distribution.rawValue)~\(image.release)~\(image.architecture.rawValue)"
                let pkgcache = image["package_cache_dir"].string ?? Path.join(UserDirectories.cache(), "mkosi/\(key)")
                FS.removeTree(Path.join(pkgcache, "lib/apt/lists"))
            }
        }
        FS.removeTree(History.directory(for: loaded.args, cwd: loaded.cwd))
    }
}

/// `mkosi box -- COMMAND`: runs a command with mkosi's tools (the host's, until tools trees
/// exist) and `MKOSI_IN_BOX=1` in its environment.
enum BoxCommand {
    static func run(_ loaded: LoadedConfiguration) throws -> Int32 {
        guard !loaded.args.cmdline.isEmpty else {
            throw MkosiError.usage("Please specify a command to run in the box", hint: "mkosi box -- COMMAND [ARGS…]")
        }
        var env = Dictionary(Env.all(), uniquingKeysWith: { _, last in last })
        env["MKOSI_IN_BOX"] = "1"
        if let d = HostDistribution.current.distribution { env["MKOSI_HOST_DISTRIBUTION"] = d.rawValue }
        if let r = HostDistribution.current.release { env["MKOSI_HOST_RELEASE"] = r }
        return try HostCommand.run(loaded.args.cmdline, environment: env, check: false)
    }
}
