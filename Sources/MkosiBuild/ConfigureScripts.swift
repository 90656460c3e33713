import MkosiConfig
import MkosiCore
import MkosiSandbox

/// `ConfigureScripts=` (`mkosi.configure`): before building, each image's configuration is
/// given as JSON (one line, the `--json summary` object) on the script's standard input; the
/// JSON it prints replaces the configuration. Keys it leaves out keep their values (upstream
/// resets them to defaults). Images are ordered by their dependencies again afterwards.
public enum ConfigureScripts {
    public static func run(_ loaded: LoadedConfiguration) throws -> LoadedConfiguration {
        guard loaded.images.contains(where: { !$0[.configureScripts].isEmpty }) else { return loaded }
        try InputCheck.verify(InputCheck.configureScripts(loaded.images, cwd: loaded.cwd), facts: HostInputFacts())
        var result = loaded
        var images: [Config] = []
        for image in loaded.images {
            var config = image
            for script in image[.configureScripts] {
                config = try runOne(script, config: config, loaded: loaded)
            }
            images.append(config)
        }
        guard let main = images.last else { return result }
        result.images = try DependencyOrder.resolve(Array(images.dropLast()), include: main.dependencies) + [main]
        return result
    }

    static func runOne(_ script: String, config: Config, loaded: LoadedConfiguration) throws -> Config {
        try Scripts.makeExecutable(script, config: config)
        let context = try BuildContext(config: config, args: loaded.args, cwd: loaded.cwd)
        defer { context.cleanup() }
        let input = context.workspace + "/config.json"
        try FS.writeAtomically(input, config.json.serialized(indent: nil) + "\n")

        var s = context.toolsSandbox()
        s.bind(script, "/work/configure", readOnly: true)
        for tree in config[.buildSources] {
            s.bind(tree.source, tree.target.map { Path.join("/work/src", $0) } ?? "/work/src")
        }
        s.workingDirectory = "/work/src"
        // As upstream, configure scripts have no network.
        s.network = false
        var env = context.baseEnvironment()
        for (k, v) in Scripts.commonVariables(context) { env[k] = v }
        for (k, v) in context.userEnvironment() { env[k] = v }

        Log.info("Running \(Path.basename(script)) on the \(config.image) image")
        let output: String
        do {
            output = try context.runner.capture(["/work/configure"], in: s, environment: env, inputFile: input).output
        } catch var e as MkosiError where !e.isInterruption {
            if case .command(let status) = e.code { e.message = "\(script) failed with exit status \(status)" }
            throw e
        }
        guard case .object(let pairs) = try JSON.parse(output) else {
            throw MkosiError.config("\(script) printed no JSON object", hint: "A configure script prints the (modified) configuration as JSON")
        }
        return try config.applying(json: pairs, from: script)
    }
}

#if canImport(Glibc)
import Glibc
#endif
