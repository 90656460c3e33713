/// Whether this implementation acts on a setting, declared with the setting in the table. A
/// value that is not honoured is refused or warned about before any work starts
/// (`SupportReport`), so that no setting is ever silently ignored.
public struct Support: Sendable {
    /// What happens to a configuration that asks for something not honoured yet.
    public enum Impact: String, Sendable {
        /// Ignoring it would give a different or weaker image than asked for: the build stops.
        case refuse
        /// It only affects a convenience (mostly at run time): a warning, and the work goes on.
        case warn
    }

    public enum Status: Sendable {
        /// Acted on wherever it applies.
        case honoured
        /// Consumed by the configuration engine itself (includes, profiles, the settings of the
        /// default tools tree and initrd, which become those images' own settings).
        case configuration
        /// Not acted on yet: any value other than the default is reported.
        case notYet(Impact)
        /// Acted on except for some values: those the predicate rejects are reported.
        case values(Impact, accepts: @Sendable (Value) -> Bool, what: String)
    }

    public let status: Status
    /// The output formats the setting means something for; nil for all.
    public let formats: Set<OutputFormat>?
    /// The distributions the setting means something for; nil for all.
    public let distributions: (@Sendable (Distribution) -> Bool)?
    /// Another condition on the configuration for the setting to mean something.
    public struct Condition: Sendable {
        /// How its failure reads in a message ("the image is not bootable").
        public let unless: String
        public let holds: @Sendable (Config) -> Bool
    }

    public let condition: Condition?

    public init(_ status: Status, formats: Set<OutputFormat>? = nil,
                distributions: (@Sendable (Distribution) -> Bool)? = nil, condition: Condition? = nil) {
        self.status = status
        self.formats = formats
        self.distributions = distributions
        self.condition = condition
    }

    public static let honoured = Support(.honoured)
    public static let configuration = Support(.configuration)
    public static func notYet(_ impact: Impact) -> Support { Support(.notYet(impact)) }

    /// Honoured for the values of `E` that `accepts` lets through (every member, for lists).
    public static func only<E: SettingEnum>(_ type: E.Type, _ impact: Impact, _ what: String,
                                           _ accepts: @escaping @Sendable (E) -> Bool) -> Support {
        Support(.values(impact, accepts: { value in
            let items = value.list ?? [value]
            return items.allSatisfy { item in item.string.flatMap(E.init(rawValue:)).map(accepts) ?? true }
        }, what: what))
    }

    /// Honoured when the value is not `true`.
    public static func unlessEnabled(_ impact: Impact, _ what: String) -> Support {
        Support(.values(impact, accepts: { $0.bool != true }, what: what))
    }

    /// The same status, limited to `formats`.
    public func formats(_ formats: Set<OutputFormat>) -> Support {
        Support(status, formats: formats, distributions: distributions, condition: condition)
    }

    /// The same status, limited to the distributions `applies` accepts.
    public func distributions(_ applies: @escaping @Sendable (Distribution) -> Bool) -> Support {
        Support(status, formats: formats, distributions: applies, condition: condition)
    }

    /// The same status, for bootable images only (`Bootable=` not disabled) of the formats that
    /// can boot with UEFI on their own.
    public var whenBootable: Support {
        Support(status, formats: formats ?? Support.bootableFormats, distributions: distributions,
                condition: Condition(unless: "the image is not bootable (Bootable=no)", holds: { $0[.bootable] != .disabled }))
    }

    /// The formats a virtual machine or container can run (`vm`, `boot`, `shell`).
    public static let runnableFormats: Set<OutputFormat> = [.disk, .esp, .uki, .cpio, .directory]
    /// The formats that can carry a boot loader of their own.
    public static let bootableFormats: Set<OutputFormat> = Set(OutputFormat.allCases.filter { !$0.isNeverBootable })
    /// The formats systemd-repart makes.
    public static let partitionedFormats: Set<OutputFormat> = Set(OutputFormat.allCases.filter(\.isPartitionedImage))
}
