import MkosiCore

/// One setting of one image that this implementation will not act on as configured.
public struct SupportFinding: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Ignoring it would change or weaken the image: the build must not start.
        case refused
        /// Not honoured yet, but only a convenience is lost.
        case unhonoured
        /// Honoured in general, but meaningless for this image's format or distribution.
        case notApplicable
    }

    public let kind: Kind
    public let setting: Setting
    public let image: String
    /// `Name=value`, as the user would write it.
    public let assignment: String
    /// Where the value was set ("mkosi.conf:5", "command line (--tpm)").
    public let location: String
    /// The sentence after the assignment.
    public let reason: String

    /// `mkosi.conf:5: TPM=yes is not honoured yet …`.
    public var message: String {
        let image = self.image == "main" ? "" : " (image \(self.image))"
        return "\(location): \(assignment)\(image) \(reason)"
    }
}

/// Walks the settings table against the final configuration: every setting given a value that
/// this build will not honour, or that means nothing for the image, is reported, so that no
/// setting is silently ignored. Pure: the caller decides how to show the findings.
public enum SupportReport {
    /// The findings for every image of `loaded` (the tools tree first, the main image last);
    /// values an image only inherits from the main image are reported once, on the main image.
    public static func findings(_ loaded: LoadedConfiguration) -> [SupportFinding] {
        ((loaded.tools.map { [$0] } ?? []) + loaded.images).flatMap { findings($0, cwd: loaded.cwd) }
    }

    public static func findings(_ config: Config, cwd: String) -> [SupportFinding] {
        var result: [SupportFinding] = []
        var seen: Set<String> = []
        for s in Settings.all where seen.insert(s.dest).inserted {
            let origins = (config.origins[s.dest] ?? []).filter { $0 != .defaultValue && $0 != .mainImage }
            guard !origins.isEmpty else { continue }
            let value = config.value(of: s)
            if s.factory == nil, value == Settings.staticDefault(s.dest) { continue }
            // A well-known file (mkosi.key, mkosi.crt) feeds several settings at once: only a
            // refusal is worth saying for those.
            let onlyAutoDetected = origins.allSatisfy { if case .autoFile = $0 { return true } else { return false } }
            let assignment = "\(s.name)=\(render(value))"
            let location = Origin.describe(origins, cwd: cwd)
            func add(_ kind: SupportFinding.Kind, _ reason: String) {
                if onlyAutoDetected && kind != .refused { return }
                result.append(SupportFinding(kind: kind, setting: s, image: config.image, assignment: assignment,
                                             location: location, reason: reason))
            }
            if let formats = s.support.formats, !formats.contains(config.format) {
                add(.notApplicable, "has no effect on Format=\(config.format.rawValue) images")
                continue
            }
            if let applies = s.support.distributions, !applies(config.distribution) {
                add(.notApplicable, "has no effect on \(config.distribution.prettyName) images")
                continue
            }
            if let condition = s.support.condition, !condition.holds(config) {
                add(.notApplicable, "has no effect: \(condition.unless)")
                continue
            }
            switch s.support.status {
            case .honoured, .configuration:
                break
            case .notYet(let impact):
                add(impact == .refuse ? .refused : .unhonoured,
                    impact == .refuse ? "is not implemented yet in this mkosi"
                        : "is not honoured yet by this mkosi and has no effect")
            case .values(let impact, let accepts, let what):
                guard !accepts(value) else { continue }
                add(impact == .refuse ? .refused : .unhonoured,
                    impact == .refuse ? "asks for \(what), which is not implemented yet in this mkosi"
                        : "asks for \(what), which this mkosi does not honour yet; it has no effect")
            }
        }
        return result
    }

    /// A value as it would be written in a configuration file.
    public static func render(_ v: Value) -> String {
        switch v {
        case .null: return ""
        case .bool(let b): return b ? "yes" : "no"
        case .list(let l): return l.map(render).joined(separator: " ")
        case .dict(let d): return d.pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        default: return v.display
        }
    }
}

extension SupportReport {
    /// The marker in the manual that `documentation` replaces with `manualSection()`.
    public static let manualMarker = "<!-- SETTINGS-SUPPORT -->"

    /// Markdown for the manual: how many settings this implementation honours, and each one it
    /// does not (or only in part), with what happens when a configuration uses it. Generated from
    /// the table, so it cannot go stale.
    public static func manualSection() -> String {
        var seen: Set<String> = []
        let settings = Settings.all.filter { seen.insert($0.dest).inserted }
        var honoured = 0, configuration = 0, partly = 0, refused = 0, warned = 0, limited = 0
        var rows: [String] = []
        for s in settings {
            let support = s.support
            var scope: [String] = []
            if let formats = support.formats {
                scope.append("Format=" + OutputFormat.allCases.filter(formats.contains).map(\.rawValue).joined(separator: ", "))
            }
            if let applies = support.distributions {
                scope.append(Distribution.allCases.filter(applies).map(\.rawValue).joined(separator: ", "))
            }
            if let condition = support.condition { scope.append("not when \(condition.unless)") }
            if !scope.isEmpty { limited += 1 }
            switch support.status {
            case .honoured: honoured += 1
            case .configuration: configuration += 1
            case .notYet(let impact):
                impact == .refuse ? (refused += 1) : (warned += 1)
                rows.append("| `\(s.name)=` | not yet: any other value than the default is \(impact == .refuse ? "refused" : "a warning") | \(scope.joined(separator: "; ")) |")
            case .values(let impact, _, let what):
                partly += 1
                rows.append("| `\(s.name)=` | \(what): \(impact == .refuse ? "refused" : "a warning") | \(scope.joined(separator: "; ")) |")
            }
        }
        return """
            Of the \(settings.count) settings (\(Settings.all.count) names), \(honoured) are honoured and \(configuration) are used by the
            configuration engine itself (includes, profiles, the settings of the default tools tree and
            initrd); \(partly) are honoured except for some values, \(refused) are not honoured yet and refused when
            set, and \(warned) are not honoured yet and only warned about. \(limited) mean something only for some
            formats, distributions or configurations; elsewhere a value is a warning ("has no effect").
            This list is generated from the settings table (`mkosi documentation` prints it as it is):

            | Setting | When set | Applies to |
            |---|---|---|
            \(rows.joined(separator: "\n"))

            """
    }
}

extension Origin {
    /// Origins as a reader finds them: files below `cwd` relative to it, joined by commas.
    public static func describe(_ origins: [Origin], cwd: String) -> String {
        origins.map { o -> String in
            switch o {
            case .file(let path, let line): return "\(Path.relative(path, to: cwd) ?? path):\(line)"
            case .autoFile(let path): return "auto-detected \(Path.relative(path, to: cwd) ?? path)"
            case .promoted(let inner): return describe(inner, cwd: cwd)
            default: return o.description
            }
        }.joined(separator: ", ")
    }
}
