import MkosiConfig
import MkosiCore

/// Checks that the tools a step needs exist in the tools tree (or on the host) and are new
/// enough, before they fail in obscure ways.
enum Tools {
    /// The systemd version every systemd tool mkosi uses must have at least (offline
    /// systemd-repart, ukify, bootctl --root with --install-source).
    static let minimumSystemd = 254

    /// Fails with a hint towards `ToolsTree=default` when systemd tool `name` is missing or
    /// older than `minimumSystemd`; returns its version.
    @discardableResult
    static func requireSystemd(_ name: String, _ context: BuildContext) throws -> Int {
        let where_ = context.toolsTree.map { "the tools tree \($0)" } ?? "the host"
        let hint = context.toolsTree == nil ? "Set ToolsTree=default to build with the tools of a current Debian tree"
            : "Add a newer systemd to the tools tree (ToolsTreePackages=, ToolsTreeRelease=)"
        let output: String
        do {
            output = try context.capture([name, "--version"], in: context.bareToolsSandbox())
        } catch let error as MkosiError where error.isInterruption {
            throw error
        } catch {
            throw MkosiError(.missingTool, "\(name) is not available in \(where_)", hint: hint, cause: MkosiError.cause(of: error))
        }
        let version = HostInputFacts.parseSystemdVersion(output) ?? 0
        guard version >= minimumSystemd else {
            throw MkosiError(.missingTool, "\(name) in \(where_) is from systemd \(version); systemd \(minimumSystemd) or newer is needed",
                             hint: hint)
        }
        return version
    }

    /// Whether systemd tool `name` is there and new enough (`requireSystemd` without the error).
    static func hasSystemd(_ name: String, _ context: BuildContext) -> Bool {
        (try? requireSystemd(name, context)) != nil
    }

    /// The systemd version of the tools' `tool` (a name on the search path or a path), from its
    /// `--version` (`systemd 257 (257.9-1~deb13u1)`, `ukify 257`); nil when it cannot be told.
    static func systemdVersion(_ tool: String, _ context: BuildContext) -> Int? {
        let output = try? context.capture([tool, "--version"], in: context.bareToolsSandbox())
        return output.flatMap(HostInputFacts.parseSystemdVersion)
    }
}
