import MkosiCore

/// Which images a setting may be configured in and how it passes between images.
public enum Scope: Sendable {
    /// Per image, not passed on.
    case local
    /// Set in the main (or tools) image, forced onto subimages and the default initrd.
    case universal
    /// Set only in the main image, forced onto subimages, the default initrd and the tools tree.
    case multiversal
    /// Passed from the main image to subimages, which may override it.
    case inherit
    /// Only in the main image, passed nowhere.
    case main
    /// Main image only; becomes the un-prefixed setting of the default tools tree.
    case tools
    /// Main image only; becomes the un-prefixed setting of the default initrd.
    case initrd
    /// Like `inherit`, but inherited only by the default initrd.
    case initrdInherit

    /// Settings that may only be configured in the main image.
    public var isMainOnly: Bool { self == .main || self == .tools || self == .initrd || self == .multiversal }
}

/// The INI sections of a configuration file.
public enum Section: String, CaseIterable, Sendable {
    case include = "Include"
    case config = "Config"
    case distribution = "Distribution"
    case output = "Output"
    case content = "Content"
    case validation = "Validation"
    case build = "Build"
    case runtime = "Runtime"
}

/// Options of a path-valued setting or list item.
public struct PathOptions: Sendable {
    /// The path must exist when the setting is parsed.
    public var required = true
    /// Made absolute and symlinks resolved.
    public var resolve = true
    public var expandUser = true
    public var expandVariables = true
    /// A secret file: refused when readable by others.
    public var secret = false
    /// Must be absolute as written.
    public var absolute = false
    /// Must be a directory (when required).
    public var directory = false
    /// The path may not lie below these.
    public var exclude: [String] = []
    /// Literal values accepted as they are (`default`, `yes`, …).
    public var constants: [String] = []

    public static let existing = PathOptions()
    public static let optional = PathOptions(required: false)
}

/// Options of a `SRC[:DST]` tree item.
public struct TreeOptions: Sendable {
    /// SRC must exist when parsed.
    public var required = false
    /// SRC must be a directory.
    public var directory = false
    /// DST must be an absolute path.
    public var absoluteTarget = true
}

/// How one item of a list setting is parsed.
public enum ListItem: Sendable {
    case string
    /// A profile name: a plain name without slashes.
    case profile
    case path(PathOptions)
    /// `SRC[:DST]`.
    case tree(TreeOptions)
    case enumeration(ConfigEnum)
    /// `ID:SIZE[:DIR[:OPTIONS[:FILEID[:FLAGS]]]]`
    case drive
    /// A regular expression, stored as `re:EXPR` (except the specials `default` and `host`).
    case kernelModuleRegex
    /// The path of a `[UKIProfile]` file, parsed into a profile.
    case ukiProfile
}

/// How a list value is split and accumulated.
public struct ListOptions: Sendable {
    /// nil splits on commas and any whitespace; otherwise on this character and newlines.
    public var delimiter: Character? = nil
    public var item: ListItem = .string
    /// Split with shell quoting.
    public var unescape = false
    /// An empty assignment resets the list (not so for `Include=`).
    public var reset = true
    /// Keep the list sorted as upstream sorts package lists: names, then paths, then `(`-specs.
    public var sortPackages = false
    /// Expand globs in each value and add the sorted matches.
    public var expandGlobs = false
}

/// How a dictionary value's entries are parsed.
public enum DictItem: Sendable {
    /// `NAME=VALUE`, or `NAME` alone for the host's value.
    case environment
    /// `KEY=VALUE`.
    case keyValue
}

/// The parser of a setting: turns one assignment (or nil for "no value at all") into a value,
/// given the value accumulated so far.
public enum ValueParser: Sendable {
    case string
    case boolean
    case feature
    case enumeration(ConfigEnum)
    /// An enum that also accepts booleans, mapped to `yes`/`no` members.
    case enumOrBoolean(ConfigEnum, yes: String, no: String)
    case compression
    case uuid
    case sourceDateEpoch
    case compressLevel
    case mode
    case bytes
    case number
    case sectorSize
    case vsockCID
    case minimumVersion
    case path(PathOptions)
    /// A secret key path, or an engine/provider URI kept as it is.
    case key
    /// A certificate path, or a provider URI kept as it is.
    case certificate
    case keySource
    case certificateSource
    /// A file name without path components.
    case filename(hint: String)
    case rootPassword
    case artifactList
    case list(ListOptions)
    case dict(delimiter: Character?, item: DictItem, unescape: Bool)
    case credentials

    public var isCollection: Bool {
        switch self {
        case .list, .dict, .artifactList, .credentials: return true
        default: return false
        }
    }
}

/// How a `[Match]` condition on a setting compares.
public enum Matcher: Sendable {
    /// Membership in a list; an empty condition matches an empty list.
    case listContains(ListItem)
    case enumeration(ConfigEnum)
    /// Like `enumeration`, plus `uefi` for any architecture with an EFI name.
    case architecture
    case string
    case glob
    /// UAPI version comparison with an optional operator.
    case version
    case feature
    case buildSources
    /// `KEY` (present) or `KEY=VALUE` (equal).
    case keyValue
}

/// Computed defaults; each names the settings it reads.
public enum DefaultFactory: Sendable {
    case distribution, release, architecture
    case toolsTreeDistribution, toolsTreeRelease, toolsTreeMirror
    case repositoryKeyFetch
    case output, outputExtension, compression
    case sourceDateEpoch, proxyURL, proxyExclude, proxyPeerCertificate, proxyClientKey
    case initrds, buildSources, machine, checksum

    /// The destinations the factory reads (finalised first).
    public var dependencies: [String] {
        switch self {
        case .release: return ["distribution"]
        case .toolsTreeRelease: return ["tools_tree_distribution"]
        case .toolsTreeMirror: return ["distribution", "mirror", "tools_tree_distribution"]
        case .repositoryKeyFetch: return ["distribution", "tools_tree", "tools_tree_distribution"]
        case .output: return ["image_id", "image_version"]
        case .outputExtension: return ["output_format"]
        case .compression: return ["distribution", "release", "output_format"]
        case .sourceDateEpoch, .proxyURL, .proxyExclude: return ["environment"]
        case .proxyClientKey: return ["proxy_client_certificate"]
        case .initrds: return ["bootable", "distribution", "output_format", "packages", "volatile_packages", "overlay"]
        case .checksum: return ["sign"]
        default: return []
        }
    }
}

/// One setting: everything the configuration files, the command line, `[Match]`, defaults,
/// `summary` and JSON need to know about it. Declared once, in `Settings.all`. A class, so that
/// the lookup tables share one copy of each.
public final class Setting: Sendable {
    /// The name in configuration files and JSON (`Packages`).
    public let name: String
    /// The storage key; three deprecated settings share one with their successors.
    public let dest: String
    public let section: Section
    public let parser: ValueParser
    public let matcher: Matcher?
    /// The static default (used when no factory is given).
    public let defaultValue: Value?
    public let factory: DefaultFactory?
    /// Auto-detected files `mkosi.<suffix>` in a configuration directory.
    public let pathSuffixes: [String]
    /// Auto-detected globs `mkosi.<dir>/<glob>`, every match added in order.
    public let globSuffixes: [String]
    /// Auto-detected files are read (or run, if executable) and their text used as the value.
    public let readText: Bool
    /// Auto-detected files are secrets and may not be readable by others.
    public let secret: Bool
    /// The `%x` specifier that expands to this setting.
    public let specifier: Character?
    public let scope: Scope
    public let short: String?
    public let long: String
    /// Deprecated names still accepted in files (with a warning).
    public let compatNames: [String]
    /// Deprecated long options still accepted on the command line.
    public let compatLongs: [String]
    /// The values accepted on the command line, if restricted (derived from the setting's enum).
    public let choices: [String]?
    /// The enum the choices come from.
    public let choiceEnum: ConfigEnum?
    public let metavar: String?
    /// The value a short flag stores without an argument (`-i`, `-T`, `-a`).
    public let constant: Value?
    /// Allowed in `mkosi.tools.conf` and the tools tree image.
    public let toolsOK: Bool
    /// The value may be explicitly unset (null); an assignment then hides the default.
    public let nullable: Bool
    /// Whether this implementation acts on the setting.
    public let support: Support
    public let help: String

    public init(
        _ name: String, _ section: Section, dest: String, parser: ValueParser, match: Matcher? = nil,
        defaultValue: Value? = nil, factory: DefaultFactory? = nil, suffixes: [String] = [],
        globSuffixes: [String] = [], readText: Bool = false, secret: Bool = false, specifier: Character? = nil,
        scope: Scope = .local, short: String? = nil, long: String, compatNames: [String] = [],
        compatLongs: [String] = [], choices: Choices? = nil, metavar: String? = nil, constant: Value? = nil,
        tools: Bool = false, nullable: Bool = false, support: Support, help: String
    ) {
        self.name = name
        self.dest = dest
        self.section = section
        self.parser = parser
        self.matcher = match
        self.defaultValue = defaultValue
        self.factory = factory
        self.pathSuffixes = suffixes
        self.globSuffixes = globSuffixes
        self.readText = readText
        self.secret = secret
        self.specifier = specifier
        self.scope = scope
        self.short = short
        self.long = long
        self.compatNames = compatNames
        self.compatLongs = compatLongs
        self.choices = choices?.strings
        self.choiceEnum = choices?.values
        self.metavar = metavar
        self.constant = constant
        self.toolsOK = tools
        self.nullable = nullable
        self.support = support
        self.help = help
    }

    /// Whether an explicit assignment (even an empty one) hides the default: true for lists,
    /// dictionaries and settings that may be null.
    public var assignmentHidesDefault: Bool { parser.isCollection || nullable }

    /// The destination in the tools tree or default initrd image for `tools`/`initrd` settings.
    public var unprefixedDest: String {
        switch scope {
        case .tools: return dest.hasPrefix("tools_tree_") ? String(dest.dropFirst("tools_tree_".count)) : dest
        case .initrd: return dest.hasPrefix("initrd_") ? String(dest.dropFirst("initrd_".count)) : dest
        default: return dest
        }
    }
}
