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

    public subscript(dest: String) -> Value { values[dest] ?? .null }

    /// Returns a copy with `dest` replaced.
    public func with(_ dest: String, _ value: Value) -> Config {
        var c = self
        c.values[dest] = value
        return c
    }

    // Typed access to the settings the rest of mkosi uses most.
    public var distribution: Distribution { Distribution(rawValue: self["distribution"].string ?? "") ?? .custom }
    public var release: String { self["release"].string ?? "" }
    public var architecture: Architecture { Architecture(rawValue: self["architecture"].string ?? "") ?? .native }
    public var format: String { self["output_format"].string ?? "disk" }
    public var output: String { self["output"].string ?? "image" }
    public var outputExtension: String { self["output_extension"].string ?? "" }
    public var outputDirectory: String? { self["output_dir"].string }
    public var compression: String { self["compress_output"].string ?? "none" }
    public var packages: [String] { self["packages"].strings }
    public var initrds: [String] { self["initrds"].strings }
    public var dependencies: [String] { self["dependencies"].strings }
    public var toolsTree: String? { self["tools_tree"].string }

    /// `Output=` with the extension, as the output file is named.
    public var outputWithFormat: String { outputExtension.isEmpty ? output : "\(output).\(outputExtension)" }

    /// The output name with the extension and the compression suffix.
    public var outputWithCompression: String {
        let c = compression
        guard c != "none", ["tar", "cpio", "disk", "sysext", "confext", "portable"].contains(format) else {
            return outputWithFormat
        }
        return "\(outputWithFormat).\(compressionExtension)"
    }

    /// The file name suffix of `CompressOutput=` (`zst` for zstd).
    public var compressionExtension: String { compression == "zstd" ? "zst" : compression }

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
