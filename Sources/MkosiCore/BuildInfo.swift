import CLinux

/// What this binary knows about its own build.
public enum BuildInfo {
    /// The implementation's name, shown by `mkosi --version` after upstream's version.
    public static let implementation = "mkosi-swift"

    /// The source commit the binary was built from (an abbreviated hash, with "-dirty" when the
    /// work tree had uncommitted changes), as `make` and `scripts/deb` pass it in
    /// `MKOSI_COMMIT`; nil for a build that was not told (a plain `swift build`).
    public static let commit: String? = {
        let commit = String(cString: mkosi_build_commit())
        return commit.isEmpty ? nil : commit
    }()
}
