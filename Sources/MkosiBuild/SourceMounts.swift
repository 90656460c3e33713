import MkosiConfig
import MkosiCore
import MkosiSandbox

/// How scripts see the build sources (`BuildSources=`) at `/work/src`, after
/// `BuildSourcesEphemeral=`, as upstream:
///
/// - sync, configure and clean scripts always get the real sources (a bind mount);
/// - with `yes` (or `buildcache`), prepare, post-installation, finalize and post-output scripts
///   get each source under an overlay whose upper directory is thrown away after the script;
/// - with `yes`, so do build scripts; with `buildcache`, their upper directory is
///   `mkosi.buildovl.NAME` (NAME: the source directory's name) in the build subdirectory
///   (`BuildDirectory=`, below `BuildKey=`), kept across builds, so changes persist there but
///   never reach the real sources.
///
/// Everything here is pure: `Scripts` creates the directories a plan names and removes the
/// throw-away ones.
public enum SourceMounts {
    /// The kinds of scripts that see the build sources.
    public enum ScriptKind: Sendable, Equatable {
        case sync, prepare, build, postInstallation, finalize, postOutput, clean
    }

    public enum Mode: Sendable, Equatable {
        /// The real sources, read-write.
        case bind
        /// An overlay whose changes are discarded after the script.
        case volatile
        /// An overlay whose changes are kept in the build subdirectory.
        case buildCache
    }

    /// One source directory as one script sees it.
    public struct Mount: Sendable, Equatable {
        public var source: String
        public var target: String
        /// The overlay's upper and work directories; nil for a bind mount.
        public var upper: String?
        public var work: String?

        public init(source: String, target: String, upper: String? = nil, work: String? = nil) {
            self.source = source
            self.target = target
            self.upper = upper
            self.work = work
        }

        /// The sandbox operation that makes it.
        public var operation: Sandbox.Operation {
            if let upper, let work { return .overlay(lower: [source], upper: upper, work: work, target: target) }
            return .bind(source: source, target: target, readOnly: false, optional: false)
        }
    }

    /// The mode a script of `kind` gets under `BuildSourcesEphemeral=ephemeral`.
    public static func mode(for kind: ScriptKind, ephemeral: BuildSourcesEphemeral) -> Mode {
        switch (kind, ephemeral) {
        case (_, .no), (.sync, _), (.clean, _): return .bind
        case (.build, .buildcache): return .buildCache
        default: return .volatile
        }
    }

    /// The mounts of `trees` for one script: bind mounts, or overlays with upper and work
    /// directories in `scratch` (`volatile`: a fresh directory per script, removed afterwards)
    /// or in `buildSubdirectory` (`buildCache`: `mkosi.buildovl.NAME`, and
    /// `mkosi.buildovl.NAME-workdir`, which is removed afterwards).
    /// Throws when `buildCache` has no build directory, as upstream.
    public static func plan(_ trees: [ConfigTree], mode: Mode, scratch: String, buildSubdirectory: String?) throws -> [Mount] {
        if mode == .buildCache, !trees.isEmpty, buildSubdirectory == nil {
            throw MkosiError.config("BuildSourcesEphemeral=buildcache was configured, but no build directory exists",
                                    hint: "Configure BuildDirectory= or create mkosi.builddir")
        }
        return trees.enumerated().map { i, tree in
            let target = tree.target.map { Path.join("/work/src", $0) } ?? "/work/src"
            switch mode {
            case .bind:
                return Mount(source: tree.source, target: target)
            case .volatile:
                return Mount(source: tree.source, target: target,
                             upper: scratch + "/sources-\(i)/upper", work: scratch + "/sources-\(i)/work")
            case .buildCache:
                let upper = Path.join(buildSubdirectory ?? "", "mkosi.buildovl." + Path.basename(tree.source))
                return Mount(source: tree.source, target: target, upper: upper, work: upper + "-workdir")
            }
        }
    }
}
