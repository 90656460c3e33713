import MkosiConfig
import MkosiCore

/// The default initrd (`default-initrd` image) is rebuilt by upstream on every build, with a
/// second full package installation. With `Incremental=`, we keep it instead when nothing it is
/// made from changed: its incremental cache is valid (same packages and repository state), its
/// output still exists, and its complete configuration (all settings except the random `Seed=`)
/// is the one it was last built with, recorded as `<CacheDirectory>/<key>.initrd.json`.
/// `-ff` rebuilds it.
public enum InitrdReuse {
    static func record(_ config: Config, args: Args) -> String? {
        guard config.image == "default-initrd" else { return nil }
        return IncrementalCache(config: config, args: args).sidePath(".initrd.json")
    }

    static func fingerprint(_ config: Config) -> String {
        guard case .object(let pairs) = config.json else { return "" }
        return JSON.object(pairs.filter { $0.0 != "Seed" }).serialized() + "\n"
    }

    /// Whether `config`'s previous output can be used as it is.
    public static func canReuse(_ config: Config, args: Args, cwd: String) -> Bool {
        guard args.force < 2, let record = record(config, args: args),
              IncrementalCache(config: config, args: args).isValid,
              FS.exists(Path.join(config.outputDirectoryOrDefault(cwd: cwd), config.outputWithCompression)) else { return false }
        return (try? FS.readText(record)) == fingerprint(config)
    }

    /// Notes the configuration `config` was just built with (and forgets it before a build).
    public static func remember(_ config: Config, args: Args, built: Bool) {
        guard let record = record(config, args: args) else { return }
        if built { try? FS.writeAtomically(record, fingerprint(config)) } else { FS.removeTree(record) }
    }
}
