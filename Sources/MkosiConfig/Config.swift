import MkosiCore

/// The final, immutable configuration of one image: the value of every setting, the files it
/// was read from, and where each value came from.
public struct Config: Sendable {
    /// `main`, a subimage name, `tools` or `default-initrd`.
    public let image: String
    /// Configuration files parsed for this image, in order.
    public let files: [String]
    public private(set) var values: [String: Value]
    public let origins: [String: [Origin]]
    /// The directory mkosi was invoked in, nil for `-C ''`.
    public let directory: String?

    init(image: String, files: [String], values: [String: Value], origins: [String: [Origin]], directory: String?) {
        self.image = image
        self.files = files
        self.values = values
        self.origins = origins
        self.directory = directory
    }

    /// String-keyed access, for the engine only: the rest of mkosi reads `config[.key]`.
    subscript(dest: String) -> Value { values[dest] ?? .null }

    /// Returns a copy with `dest` replaced.
    func with(_ dest: String, _ value: Value) -> Config {
        var c = self
        c.values[dest] = value
        return c
    }

    /// The value of `key`'s setting in JSON form (as `--json summary` writes it), for code that
    /// passes values through without looking at them (cache manifests).
    public func json<T>(_ key: SettingKey<T>) -> JSON { self[key.dest].json }

    /// The parsed value of `setting`, for code that walks the whole table (reports); everything
    /// else reads typed keys.
    public func value(of setting: Setting) -> Value { self[setting.dest] }

    /// The configuration a configure script's output describes (a `--json summary`-style object):
    /// as upstream, the settings it names take its values and every other setting goes back to
    /// its default (so a script prints everything it wants to keep, usually by echoing its
    /// input). `Files`, `Image` and `BuildSubdirectory` are ignored; the image stays this one.
    ///
    /// - Throws: `MkosiError.config` naming `source` for an unknown setting or a value of the
    ///   wrong shape.
    public func applying(json pairs: [(String, JSON)], from source: String) throws -> Config {
        var values = Config.defaultValues
        var origins = Dictionary(uniqueKeysWithValues: Settings.dests.map { ($0, [Origin.defaultValue]) })
        for (key, value) in pairs where key != "Files" && key != "Image" && key != "BuildSubdirectory" {
            guard let setting = Settings.byName[key] else {
                // Upstream ignores unknown keys whose value is empty.
                if value == .null || value == .array([]) || value == .object([]) { continue }
                throw MkosiError.config("\(source) printed an unknown setting \(key)")
            }
            values[setting.dest] = try History.fromJSON(value, setting)
            origins[setting.dest] = self.origins[setting.dest] ?? [.defaultValue]
        }
        return Config(image: image, files: files, values: values, origins: origins, directory: directory)
    }

    /// Every setting's default, computed as upstream's `Config.default()` does: the settings of
    /// an empty configuration read in `/proc`.
    static let defaultValues: [String: Value] = {
        let context = ParseContext(resources: BuiltinResources(), cwd: "/proc")
        return (try? context.finalize().values) ?? [:]
    }()

    // Shorthands for the settings the rest of mkosi uses most.
    public var distribution: Distribution { self[.distribution] }
    public var release: String { self[.release] }
    public var architecture: Architecture { self[.architecture] }
    public var format: OutputFormat { self[.outputFormat] }
    public var output: String { self[.output] }
    public var outputExtension: String { self[.outputExtension] }
    public var outputDirectory: String? { self[.outputDirectory] }
    public var compression: Compression { self[.compressOutput] }
    public var packages: [String] { self[.packages] }
    public var initrds: [String] { self[.initrds] }
    public var dependencies: [String] { self[.dependencies] }
    public var toolsTree: String? { self[.toolsTree] }

    /// `Output=` with the extension, as the output file is named.
    public var outputWithFormat: String { outputExtension.isEmpty ? output : "\(output).\(outputExtension)" }

    /// The output name with the extension and the compression suffix.
    public var outputWithCompression: String {
        guard compression != .none, format.isCompressible else { return outputWithFormat }
        return "\(outputWithFormat).\(compression.fileExtension)"
    }

    /// `OutputDirectory=`, else the invocation directory (or its `mkosi/` subdirectory).
    public func outputDirectoryOrDefault(cwd: String) -> String {
        outputDirectory ?? ConfigLoader.configDirectory(for: cwd) ?? cwd
    }
}

/// The result of parsing the command line and all configuration.
public struct LoadedConfiguration: Sendable {
    public var args: Args
    /// The default tools tree image, when `ToolsTree=default`.
    public var tools: Config?
    /// Subimages in build order, then the main image last.
    public var images: [Config]
    /// The invocation directory (after `-C`).
    public var cwd: String
    /// The settings given on the command line with their values, as `History=yes` records them
    /// after a successful build (`History.write`).
    public var commandLineSettings: [(Setting, Value)] = []

    public var main: Config? { images.last }
}
