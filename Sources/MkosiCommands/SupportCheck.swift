import MkosiConfig
import MkosiCore

/// Says, before any work starts, which settings this build will not honour (`SupportReport`):
/// warnings for conveniences and settings that mean nothing for an image, an error naming every
/// refused setting and where it was set when an image would come out different from what the
/// configuration asks for.
enum SupportCheck {
    /// - Parameters:
    ///   - building: whether images will be built; refusals matter only then.
    ///   - quiet: report refusals only (a second check after configure scripts changed values).
    /// - Throws: `MkosiError.unsupported` listing every refused setting.
    static func run(_ loaded: LoadedConfiguration, building: Bool, quiet: Bool = false) throws {
        let findings = SupportReport.findings(loaded)
        if !quiet {
            for f in findings where f.kind != .refused || !building { Log.warning(f.message) }
        }
        let refused = findings.filter { $0.kind == .refused }
        guard building, !refused.isEmpty else { return }
        throw MkosiError(.unsupported, refused.map(\.message).joined(separator: "\n"),
                         hint: "Remove \(refused.count == 1 ? "this setting" : "these settings") or change \(refused.count == 1 ? "its value" : "their values"); "
                             + "the manual lists what this mkosi does not honour yet (mkosi documentation)")
    }
}
