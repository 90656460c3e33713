#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// Small edits of the image after its contents are complete.
enum Configure {
    /// `IMAGE_ID=`, `IMAGE_VERSION=` and `DEFAULT_HOSTNAME=` in `/usr/lib/os-release` from
    /// `ImageId=`, `ImageVersion=` and `Hostname=` (replacing earlier values).
    static func osRelease(_ context: BuildContext) throws {
        let config = context.config
        var set: [(String, String)] = []
        if let id = config[.imageID] { set.append(("IMAGE_ID", id)) }
        if let version = config[.imageVersion] { set.append(("IMAGE_VERSION", version)) }
        if let hostname = config[.hostname] { set.append(("DEFAULT_HOSTNAME", hostname)) }
        let path = Path.join(context.root, "usr/lib/os-release")
        defer {
            // SplitArtifacts=os-release: a copy next to the output, as the image has it now.
            if config[.splitArtifacts].contains(.osRelease), let text = try? FS.readText(path) {
                try? FS.writeAtomically(Path.join(context.staging, "\(config.output).osrelease"), text)
            }
        }
        guard !set.isEmpty, let text = try? FS.readText(path) else { return }
        let keys = Set(set.map(\.0))
        var lines = text.split(separator: "\n").map(String.init).filter { line in
            !keys.contains(String(line.prefix(while: { $0 != "=" })))
        }
        lines += set.map { "\($0.0)=\(ShellLexer.quote($0.1))" }
        try FS.writeAtomically(path, lines.joined(separator: "\n") + "\n")
    }

    /// Initrds (`MakeInitrd=`, and `Format=cpio`, `uki` or `esp` images that have no `/init`): `/init` starts
    /// systemd, and with `MakeInitrd=` `/etc/initrd-release` marks the image as an initrd.
    static func initrd(_ context: BuildContext) throws {
        let root = context.root
        let makeInitrd = context.config[.makeInitrd]
        guard makeInitrd || context.config.format.needsInitrd else { return }
        if FS.lstat(Path.join(root, "init")) == nil, FS.lstat(Path.join(root, "usr/lib/systemd/systemd")) != nil {
            guard symlink("/usr/lib/systemd/systemd", Path.join(root, "init")) == 0 else { throw FS.systemError("Cannot create /init") }
        }
        let release = Path.join(root, "etc/initrd-release")
        if makeInitrd, FS.lstat(release) == nil, FS.isDirectory(Path.join(root, "etc")) {
            guard symlink("/etc/os-release", release) == 0 else { throw FS.systemError("Cannot create /etc/initrd-release") }
        }
    }

    /// `ManifestFormat=json`: `<Output>.manifest` with the image's configuration and installed
    /// packages (name, version, architecture, size), sorted by name.
    static func manifest(_ context: BuildContext) throws {
        let config = context.config
        guard config[.manifestFormat].contains(.json),
              let installed = try context.packageManager?.installedPackages() else { return }
        // With base trees, only the packages this build installed.
        let since = config[.baseTrees].isEmpty ? 0 : context.startTime
        let packages: [JSON] = installed.compactMap { p in
            if since > 0 && (p.installTime ?? 0) < since { return nil }
            return JSON.object([
                ("type", .string(p.type)), ("name", .string(p.name)), ("version", .string(p.version)),
                ("architecture", .string(p.architecture)), ("size", .int(p.size)),
            ])
        }.sorted { ($0["name"]?.serialized() ?? "").codePointPrecedes($1["name"]?.serialized() ?? "") }
        var configPairs: [(String, JSON)] = [
            ("name", .string(config[.imageID] ?? "image")), ("distribution", .string(config.distribution.rawValue)),
            ("architecture", .string(config.architecture.rawValue)), ("output_format", .string(config.format.rawValue)),
        ]
        if let version = config[.imageVersion] { configPairs.append(("version", .string(version))) }
        configPairs.append(("release", .string(config.release)))
        let manifest = JSON.object([
            ("manifest_version", .int(1)), ("config", .object(configPairs)), ("packages", .array(packages)),
            ("extension", .object([])),
        ])
        try FS.writeAtomically(Path.join(context.staging, "\(config.output).manifest"),
                               manifest.serialized(indent: 2, sortKeys: false) + "\n")
    }
}
