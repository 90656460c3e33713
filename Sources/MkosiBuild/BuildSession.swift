import MkosiConfig
import MkosiCore
import MkosiInstaller

/// What the images of one `mkosi build` share: `$PACKAGEDIR`, and the repository metadata,
/// which is refreshed at most once per build so every image sees the same archive state.
///
/// Whether the metadata is refreshed at all follows upstream's rules (`CacheOnly=`):
/// - refreshed if any image has `CacheOnly=never`;
/// - kept if no image has `CacheOnly=auto` (all `always` or `metadata`);
/// - otherwise refreshed, unless every incremental image has a valid cache (then no package
///   is installed from the repositories, except volatile ones) or only some of them have a
///   cache at all (a build that failed half-way is retried against the same metadata).
/// When the metadata is refreshed, the incremental caches are dropped, so that images built
/// from new metadata are not mixed with cached ones built from old metadata.
public final class BuildSession: MetadataSession {
    /// `$PACKAGEDIR` of this build.
    public let packageDirectory: String?
    /// Whether this build refreshes the repository metadata.
    public let refreshMetadata: Bool
    /// The package caches and sources whose metadata was refreshed in this build.
    public var refreshed: Set<String> = []

    public init(images: [Config], args: Args, packageDirectory: String?) {
        self.packageDirectory = packageDirectory
        refreshMetadata = BuildSession.metadataNeedsRefresh(images: images, args: args)
        if refreshMetadata {
            for image in images { IncrementalCache(config: image, args: args).drop() }
        }
    }

    static func metadataNeedsRefresh(images: [Config], args: Args) -> Bool {
        let policies = images.map { $0[.cacheOnly] }
        if policies.contains(.never) { return true }
        let auto = images.filter { $0[.cacheOnly] == .auto }
        if auto.isEmpty { return false }
        let incremental = auto.map { IncrementalCache(config: $0, args: args) }.filter(\.enabled)
        if incremental.isEmpty || args.force > 1 { return true }
        let withManifest = incremental.filter { $0.hasManifest }
        if withManifest.isEmpty { return true }
        if withManifest.count == incremental.count { return !incremental.allSatisfy { $0.isValid } }
        return false
    }
}
