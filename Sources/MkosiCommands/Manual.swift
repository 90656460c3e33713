import MkosiConfig
import MkosiCore

/// Our manuals: `docs/NAME.md` of the resources, in their final form.
public enum Manual {
    /// The final Markdown of the manual `name` (`docs/NAME.md`), with the generated section on
    /// which settings are honoured filled in.
    ///
    /// - Throws: `MkosiError` when there is no such manual or it cannot be read.
    public static func markdown(named name: String, resources: BuiltinResources) throws -> String {
        let path = try resources.path(of: "docs/\(name).md")
        guard FS.exists(path) else { throw MkosiError.usage("No manual named '\(name)'") }
        return try FS.readText(path).replacingOccurrences(of: SupportReport.manualMarker, with: SupportReport.manualSection())
    }
}
