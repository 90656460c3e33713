import MkosiConfig
import MkosiCore
import MkosiSandbox

/// What a package manager may use of the build it works for: the image's configuration and
/// root, the workspace and caches, sandboxes with the tools, and the environment. The build
/// pipeline's `BuildContext` provides it; package managers know nothing else of the pipeline.
public protocol InstallerContext: AnyObject {
    var config: Config { get }
    /// The image's root directory (`/buildroot` in sandboxes).
    var root: String { get }
    /// The directories the image is made of, top first: the root, then (with `Overlay=yes`) the
    /// base trees it is seen over in sandboxes. Changes only ever go to the root.
    var imageLayers: [String] { get }
    /// A private directory of this image's build, removed with it.
    var workspace: String { get }
    /// What every tool sees on top of the tools (`SandboxTrees=`, installed before the package
    /// manager is set up); the package manager's configuration goes into its `etc/`.
    var sandboxTree: String { get }
    /// `ToolsTree=`, nil for the host's tools.
    var toolsTree: String? { get }
    /// While the image is seen through the build overlay (`BuildPackages=`, build scripts): the
    /// overlay's upper directory, where changes go.
    var overlayUpper: String? { get }
    /// Downloaded packages and repository metadata, shared between builds.
    var packageCache: String { get }
    /// `$PACKAGEDIR`: packages that scripts of this build leave, nil outside a build.
    var packageDirectory: String? { get }
    /// Whether the build runs without root (in a user namespace with one user).
    var unprivileged: Bool { get }
    /// The repository metadata shared by the images of one build, nil outside a build.
    var metadataSession: MetadataSession? { get }

    /// A sandbox with the tools (the tools tree's, else the host's) and no image.
    func bareToolsSandbox() -> Sandbox
    /// A sandbox with the tools and the image at `/buildroot`.
    func toolsSandbox() -> Sandbox
    /// The environment of every tool (proxy, `EnvironmentFiles=`, `Environment=`, …).
    func baseEnvironment() -> [String: String]
    /// The variables the user asks for, in the order they apply.
    func userEnvironment() -> [(String, String)]
    /// Runs `argv` in `sandbox`; failures name `display` (default: `argv`).
    func run(_ argv: [String], in sandbox: Sandbox, environment: [String: String]?, display: [String]?) throws
    /// Runs `argv` in `sandbox` and returns its standard output; failures name `argv`.
    func capture(_ argv: [String], in sandbox: Sandbox, environment: [String: String]?) throws -> String
    /// Takes the package cache's lock (waiting for another mkosi that holds it).
    func lockPackageCache() throws -> FileLock
}

extension InstallerContext {
    public func run(_ argv: [String], in sandbox: Sandbox, environment: [String: String]? = nil) throws {
        try run(argv, in: sandbox, environment: environment, display: nil)
    }

    /// The distribution's description.
    public var distribution: DistributionDescription { .of(config.distribution) }

    /// The sandbox's `/etc`.
    public var sandboxEtc: String { sandboxTree + "/etc" }

    /// Where `relative` (a path below the image root) is found in the image as sandboxes see
    /// it: in the root, else in the first base layer that has it; nil if none has it.
    public func imagePath(_ relative: String) -> String? {
        imageLayers.lazy.map { Path.join($0, relative) }.first { FS.lstat($0) != nil }
    }
}

/// Whether the repository metadata is synced in this build, and for which caches and sources it
/// was synced already (once per build, so every image sees the same archive state).
public protocol MetadataSession: AnyObject {
    var refreshMetadata: Bool { get }
    var refreshed: Set<String> { get set }
}
