import MkosiConfig
import MkosiCore

/// `Incremental=`: the image as it is after packages and prepare scripts (and the build overlay
/// with `BuildPackages=`) is kept in `CacheDirectory=` as `<CacheKey>.cache` (and
/// `.build.cache`), with a manifest of the inputs it was made from. A later build whose
/// manifest is the same starts from a copy of it instead of installing packages again.
///
/// The manifest covers: distribution, release, architecture, mirror, local mirror, snapshot,
/// repositories, repository key checking, recommends, docs, packages, build packages,
/// skeleton trees (their paths) and the contents of prepare scripts. Anything else (extra
/// trees, build/postinst/finalize scripts, …) is applied after the cache and does not
/// invalidate it. `-ff` drops the cache; `Incremental=strict` fails when it is missing or stale.
public struct IncrementalCache {
    let config: Config
    let args: Args

    public init(config: Config, args: Args) {
        self.config = config
        self.args = args
    }

    /// Off with `BaseTrees=` (the base is not part of the manifest) and `Overlay=`, as upstream.
    public var enabled: Bool {
        config[.incremental] != .no && config[.baseTrees].isEmpty && !config[.overlay]
    }

    /// `CacheKey=` with its specifiers expanded.
    public var key: String? {
        config[.cacheDirectory] == nil ? nil : config.expandKeySpecifiers(config[.cacheKey])
    }

    var paths: (root: String, build: String, manifest: String)? {
        guard let dir = config[.cacheDirectory], let key else { return nil }
        let base = Path.join(dir, key)
        return (base + ".cache", base + ".build.cache", base + ".manifest")
    }

    public var manifest: String {
        func list(_ key: SettingKey<[String]>) -> JSON { .array(config[key].sorted().map(JSON.string)) }
        var scripts: [JSON] = []
        for script in config[.prepareScripts] {
            scripts.append(.string(String(decoding: (try? FS.readBytes(script)) ?? [], as: UTF8.self)))
        }
        return JSON.object([
            ("distribution", .string(config.distribution.rawValue)), ("release", .string(config.release)),
            ("architecture", .string(config.architecture.rawValue)), ("mirror", config.json(.mirror)),
            ("local_mirror", config.json(.localMirror)), ("snapshot", config.json(.snapshot)),
            ("repositories", list(.repositories)), ("repository_key_check", config.json(.repositoryKeyCheck)),
            ("with_recommends", config.json(.withRecommends)), ("with_docs", config.json(.withDocs)),
            ("packages", list(.packages)), ("build_packages", list(.buildPackages)),
            ("skeleton_trees", config.json(.skeletonTrees)), ("prepare_scripts", .array(scripts)),
            ("build_scripts", .bool(!config[.buildScripts].isEmpty)),
        ]).serialized() + "\n"
    }

    /// Whether a cache was saved (valid or not).
    public var hasManifest: Bool { paths.map { FS.exists($0.manifest) } ?? false }

    /// Whether the saved cache was made from the inputs this configuration has now.
    public var isValid: Bool {
        guard let p = paths else { return false }
        return FS.isDirectory(p.root) && (try? FS.readText(p.manifest)) == manifest
            && (config[.buildScripts].isEmpty || FS.isDirectory(p.build))
    }

    /// A file kept beside the cache (`<CacheDirectory>/<key><suffix>`, e.g. a reused UKI), when
    /// caching is on.
    func sidePath(_ suffix: String) -> String? {
        guard enabled, let dir = config[.cacheDirectory], let key else { return nil }
        return Path.join(dir, key + suffix)
    }

    /// `clean -f`: removes the cache and everything kept beside it, whether caching is on or not.
    public func removeAll() {
        guard let dir = config[.cacheDirectory], let key else { return }
        for name in (try? FS.listDirectory(dir)) ?? [] where name.hasPrefix(key + ".") {
            FS.removeTree(Path.join(dir, name))
        }
    }

    /// Removes the saved cache.
    func drop() {
        guard enabled, let p = paths else { return }
        for path in [p.root, p.build, p.manifest] { FS.removeTree(path) }
    }

    /// Copies a valid cache into the workspace; false if there is none (or caching is off).
    func restore(into context: BuildContext) throws -> Bool {
        guard enabled else { return false }
        guard let p = paths else {
            throw MkosiError.config("Incremental= requires CacheDirectory= (or a mkosi.cache/ directory)")
        }
        if args.force > 1 { drop() }
        guard isValid else {
            if config[.incremental] == .strict {
                throw MkosiError(.notBuilt, "Incremental=strict: no valid cached image at \(p.root)",
                                 hint: "Build once with Incremental=yes, or check what changed since")
            }
            return false
        }
        Log.info("Reusing the cached image \(p.root)")
        try copyTree(p.root, to: context.root)
        if FS.isDirectory(p.build) { try copyTree(p.build, to: context.workspace + "/build-overlay/upper") }
        return true
    }

    /// Saves the image (and the build overlay) as the cache, replacing an older one only when
    /// the new copy is complete.
    func save(from context: BuildContext) throws {
        guard enabled, let p = paths else { return }
        try FS.makeDirectories(Path.dirname(p.root))
        for path in [p.root, p.build, p.manifest, p.root + ".new", p.build + ".new"] { FS.removeTree(path) }
        try copyTree(context.root, to: p.root + ".new")
        let upper = context.workspace + "/build-overlay/upper"
        if FS.isDirectory(upper) { try copyTree(upper, to: p.build + ".new") }
        guard rename(p.root + ".new", p.root) == 0 else { throw FS.systemError("Cannot save the cache \(p.root)") }
        if FS.isDirectory(p.build + ".new"), rename(p.build + ".new", p.build) != 0 {
            throw FS.systemError("Cannot save the cache \(p.build)")
        }
        try FS.writeAtomically(p.manifest, manifest)
    }

    /// A btrfs snapshot, or `cp -a` with reflinks where the file system has them
    /// (`UseSubvolumes=`, see `Subvolumes`).
    func copyTree(_ from: String, to: String) throws {
        try Subvolumes.copyTree(from, to: to, config[.useSubvolumes])
    }
}

#if canImport(Glibc)
import Glibc
#endif
