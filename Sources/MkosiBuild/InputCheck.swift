#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// Everything upstream's `check_inputs` and `check_tools` check, for every image of a build
/// before any work starts: trees, scripts, initrds, keys and certificates, the tools tree, and
/// the tools (and their versions) that the settings need. Each failure names the setting and
/// where it was set (file:line).
///
/// Deciding is pure: `plan` turns the configurations into `Requirement`s (refusing combinations
/// of settings right away), `verify` checks requirements against the host's facts
/// (`InputFacts`). The build verifies in three places (`BuildCommand`):
/// 1. before the default tools tree is built: every requirement on files, of every image;
/// 2. once the tools tree is ready, before the first image's packages are downloaded: the files
///    again (configure scripts may have changed settings) and every tool, in the tools the
///    images will use;
/// 3. right before each image: the files an earlier image of the same build makes (`madeBy`),
///    which cannot exist before.
public enum InputCheck {
    /// One thing that must hold before a build starts.
    public struct Requirement: Equatable, Sendable {
        public enum Need: Equatable, Sendable {
            /// A tree (`SkeletonTrees=`, `ExtraTrees=`, `SandboxTrees=`, `BaseTrees=`): it
            /// exists; a `.raw` disk image without a target needs root.
            case tree(hasTarget: Bool)
            /// An existing regular file (`Initrds=`).
            case file
            /// A regular file this process can read (keys, certificates, `Passphrase=`).
            case readableFile
            /// A regular file that is executable, or made so (`MakeScriptsExecutable=yes`).
            case script(makeExecutable: Bool)
            /// `ToolsTree=PATH`: a directory with a `/usr`.
            case toolsTree
            /// One of `names` in the image's tools (a bare name is looked up on the search path,
            /// a path below the tools' root), from systemd `minimumSystemd` or newer when given.
            case tool(names: [String], minimumSystemd: Int?, purpose: String)
            /// Like `tool` (without a version), unless the tools have `unless` from systemd
            /// `systemd` or newer, which does the work instead (bootctl 257 writes the
            /// auto-enrolment keys that efitools write otherwise).
            case toolUnlessNewer(names: [String], purpose: String, unless: String, systemd: Int)
            /// The key at `path` and `certificate` load, as `systemd-keyutil validate` (upstream's
            /// "Validating certificates and keys") says, when the tools have it.
            case keyPair(certificate: String)
        }

        public var need: Need
        /// The path, or the tool's name.
        public var path: String
        /// The setting that asks for it (`ExtraTrees=`).
        public var setting: String
        /// Where that setting was given ("mkosi.conf:7", "command line (--extra-tree)"), nil
        /// for a default.
        public var location: String?
        public var image: String
        /// The earlier image of the same build whose output this path is, if any: checked only
        /// right before this image is built.
        public var madeBy: String?
        /// For a tool: the tools it is looked up in (`ToolsTree=`, nil for the host's) and
        /// `ExtraSearchPaths=`.
        public var toolsTree: String? = nil
        public var searchPaths: [String] = []

        /// Whether checking it runs the tools (then it waits for the tools tree).
        public var isTool: Bool {
            switch need {
            case .tool, .toolUnlessNewer, .keyPair: return true
            default: return false
            }
        }
    }

    // MARK: Planning

    /// The requirements of `images` (in build order): each image's own, with paths that an
    /// earlier image outputs marked `madeBy`.
    ///
    /// - Throws: `MkosiError.config` for settings that contradict each other or miss a
    ///   companion (`Verity=signed` without a key, …), naming where they were set.
    /// - Parameter defaultToolsTree: whether `ToolsTree=` is the default tree mkosi builds
    ///   (which is checked once it is built, not here).
    public static func plan(_ images: [Config], cwd: String, defaultToolsTree: Bool) throws -> [Requirement] {
        var result: [Requirement] = []
        var outputs: [(image: String, path: String)] = []
        for image in images {
            result += try plan(image, cwd: cwd, earlierOutputs: outputs, defaultToolsTree: defaultToolsTree)
            outputs.append((image.image, Path.join(image.outputDirectoryOrDefault(cwd: cwd), image.output)))
        }
        return result
    }

    /// `ConfigureScripts=` of `images`, checked before any of them runs (they run before the
    /// configuration is final, so before `plan`).
    public static func configureScripts(_ images: [Config], cwd: String) -> [Requirement] {
        images.flatMap { config in
            config[.configureScripts].map {
                Requirement(need: .script(makeExecutable: config[.makeScriptsExecutable]), path: $0, setting: "ConfigureScripts=",
                            location: location(config, .configureScripts, path: $0, cwd: cwd), image: config.image)
            }
        }
    }

    /// Whether a build of `config` does anything (upstream skips `Format=none` images without
    /// build scripts, and checks nothing for them).
    public static func builds(_ config: Config) -> Bool { config.format != .none || !config[.buildScripts].isEmpty }

    static func plan(_ config: Config, cwd: String, earlierOutputs: [(image: String, path: String)],
                     defaultToolsTree: Bool) throws -> [Requirement] {
        guard builds(config) else { return [] }
        try refuseContradictions(config, cwd: cwd)
        var result: [Requirement] = []
        func at<T>(_ key: SettingKey<T>, _ path: String? = nil) -> String? { location(config, key, path: path, cwd: cwd) }
        func add<T>(_ need: Requirement.Need, _ given: String, _ key: SettingKey<T>, location: String? = nil) {
            // Keys that do not exist stay as written; the build resolves them in the project directory.
            let path = Path.join(cwd, given)
            let madeBy = earlierOutputs.last { path == $0.path || path.hasPrefix($0.path + ".") || path.hasPrefix($0.path + "/") }?.image
            result.append(Requirement(need: need, path: path, setting: key.setting.name + "=",
                                      location: location ?? at(key, given), image: config.image, madeBy: madeBy))
        }

        var trees: [(SettingKey<[ConfigTree]>, [ConfigTree])] = [(.skeletonTrees, config[.skeletonTrees]), (.sandboxTrees, config[.sandboxTrees])]
        if config.format != .none { trees.append((.extraTrees, config[.extraTrees])) }
        for (key, list) in trees {
            for tree in list { add(.tree(hasTarget: tree.target != nil), tree.source, key) }
        }
        for base in config[.baseTrees] { add(.tree(hasTarget: false), base, .baseTrees) }

        let makeExecutable = config[.makeScriptsExecutable]
        let scripts: [SettingKey<[String]>] = [.syncScripts, .prepareScripts, .buildScripts, .postInstallationScripts,
                                                .finalizeScripts, .postOutputScripts]
        for key in scripts {
            for script in config[key] { add(.script(makeExecutable: makeExecutable), script, key) }
        }

        let efi = Boot.wantEFI(config)
        if efi || config.format.needsInitrd {
            for initrd in config[.initrds] where initrd != "default" { add(.file, initrd, .initrds) }
        }
        if config[.secureBoot] {
            if let key = config[.secureBootKey], config[.secureBootKeySource].type == .file { add(.readableFile, key, .secureBootKey) }
            if let certificate = config[.secureBootCertificate], config[.secureBootCertificateSource].type == .file {
                add(.readableFile, certificate, .secureBootCertificate)
            }
        }
        if config[.signExpectedPCR] != .disabled, let key = config[.signExpectedPCRKey], config[.signExpectedPCRCertificate] != nil {
            if config[.signExpectedPCRKeySource].type == .file { add(.readableFile, key, .signExpectedPCRKey) }
            if let certificate = config[.signExpectedPCRCertificate], config[.signExpectedPCRCertificateSource].type == .file {
                add(.readableFile, certificate, .signExpectedPCRCertificate)
            }
        }
        if config.format.isPartitionedImage && [.auto, .signed].contains(config[.verity]) {
            if let key = config[.verityKey], config[.verityKeySource].type == .file { add(.readableFile, key, .verityKey) }
            if let certificate = config[.verityCertificate], config[.verityCertificateSource].type == .file {
                add(.readableFile, certificate, .verityCertificate)
            }
        }
        // As upstream's validate_certificates_and_keys.
        var pairs: [(SettingKey<String?>, String, String)] = []
        if config.format.isPartitionedImage && [.auto, .signed].contains(config[.verity]), config[.verityKeySource].type == .file,
           let key = config[.verityKey], let certificate = config[.verityCertificate] {
            pairs.append((.verityKey, key, certificate))
        }
        if config[.bootable] != .disabled && config[.secureBoot], config[.secureBootKeySource].type == .file,
           let key = config[.secureBootKey], let certificate = config[.secureBootCertificate] {
            pairs.append((.secureBootKey, key, certificate))
        }
        if config[.bootable] != .disabled && config[.signExpectedPCR] != .disabled, config[.signExpectedPCRKeySource].type == .file,
           let key = config[.signExpectedPCRKey], let certificate = config[.signExpectedPCRCertificate] {
            pairs.append((.signExpectedPCRKey, key, certificate))
        }
        for (key, path, certificate) in pairs {
            var r = Requirement(need: .keyPair(certificate: Path.join(cwd, certificate)), path: Path.join(cwd, path),
                                setting: key.setting.name + "=", location: at(key, path), image: config.image)
            r.toolsTree = config[.toolsTree]
            r.searchPaths = config[.extraSearchPaths]
            result.append(r)
        }
        if config.format.isPartitionedImage, let passphrase = config[.passphrase] { add(.readableFile, passphrase, .passphrase) }
        // The default tools tree is built before it is used.
        if let tree = config[.toolsTree], !defaultToolsTree { add(.toolsTree, tree, .toolsTree) }

        for tool in tools(config) {
            result.append(Requirement(need: tool.need, path: tool.name, setting: tool.setting, location: tool.location(config, cwd),
                                      image: config.image, toolsTree: config[.toolsTree], searchPaths: config[.extraSearchPaths]))
        }
        return result
    }

    /// A tool a setting needs, as upstream's `check_tools`.
    struct ToolNeed {
        var need: Requirement.Need
        var name: String
        var setting: String
        var origin: (Config) -> [Origin]

        func location(_ config: Config, _ cwd: String) -> String? {
            let origins = origin(config).filter { $0 != .defaultValue && $0 != .mainImage }
            return origins.isEmpty ? nil : Origin.describe(origins, cwd: cwd)
        }
    }

    static func tools(_ config: Config) -> [ToolNeed] {
        guard config.format != .none else { return [] }
        var result: [ToolNeed] = []
        func add<T>(_ names: [String], systemd: Int? = nil, _ purpose: String, _ key: SettingKey<T>) {
            result.append(ToolNeed(need: .tool(names: names, minimumSystemd: systemd, purpose: purpose), name: names[0],
                                   setting: key.setting.name + "=", origin: { $0.origins(of: key) }))
        }
        let format = config.format
        let efi = Boot.wantEFI(config)
        let ukiFormat = [.uki, .esp, .addon].contains(format)
        // Bootable=auto decides on the image's kernel, known only once packages are installed:
        // its tools are checked when they are used.
        let bootable = ukiFormat || (efi && config[.bootable] == .enabled)
        if format == .disk || format == .esp {
            add(["systemd-repart"], systemd: Tools.minimumSystemd, "build Format=\(format.rawValue) images", .outputFormat)
        }
        if format == .disk && config[.elTorito] == .enabled {
            add(["systemd-repart"], systemd: 261, "add an El Torito boot catalog", .elTorito)
        }
        if config[.selinuxRelabel] == .enabled { add(["setfiles"], "relabel files", .selinuxRelabel) }
        let ukify = ["ukify", "/usr/lib/systemd/ukify"]
        let profiles = config[.unifiedKernelImageProfiles]
        if !profiles.isEmpty && (efi || ukiFormat) {
            add(ukify, systemd: profiles.contains { !$0.signExpectedPcr } ? 258 : 257, "build unified kernel image profiles",
                .unifiedKernelImageProfiles)
        } else if ukiFormat {
            add(ukify, systemd: Tools.minimumSystemd, "build Format=\(format.rawValue) images", .outputFormat)
        } else if bootable && config[.unifiedKernelImages] != .signed
                    && (config[.unifiedKernelImages] == .unsigned || config[.bootloader] == .uki) {
            // UKIs built here, asked for explicitly: UnifiedKernelImages=auto falls back to Type #1
            // entries without ukify, and prebuilt UKIs (signed boot loaders, UnifiedKernelImages=signed)
            // need none, as upstream.
            add(ukify, systemd: Tools.minimumSystemd, "build bootable images", .bootable)
        }
        let systemdBoot = [.systemdBoot, .systemdBootSigned].contains(config[.bootloader])
        // Format=esp installs systemd-boot without bootctl.
        if bootable && systemdBoot && format != .uki && format != .addon && format != .esp {
            add(["bootctl"], systemd: Tools.minimumSystemd, "install systemd-boot", .bootable)
        }
        if efi && systemdBoot && config[.secureBoot] && config[.secureBootAutoEnroll] && config[.bootable] != .disabled {
            // As upstream: bootctl 257 writes the keys; with an older one, efitools do.
            let key: SettingKey<Bool> = config.origins(of: .secureBootAutoEnroll) == [.defaultValue] ? .secureBoot : .secureBootAutoEnroll
            let purpose = "set up systemd-boot secure boot auto-enrollment"
            for tool in ["sbsiglist", "sbvarsign", "openssl"] {
                let need: Requirement.Need = format == .esp ? .tool(names: [tool], minimumSystemd: nil, purpose: purpose)
                    : .toolUnlessNewer(names: [tool], purpose: purpose + " (bootctl older than systemd 257 cannot)", unless: "bootctl", systemd: 257)
                result.append(ToolNeed(need: need, name: tool, setting: key.setting.name + "=", origin: { $0.origins(of: key) }))
            }
        }
        if config[.secureBoot] && (bootable || (efi && config[.bootable] != .disabled && config.origins(of: .secureBoot) != [.defaultValue])) {
            let sbsign = ["systemd-sbsign", "/usr/lib/systemd/systemd-sbsign"]
            switch config[.secureBootSignTool] {
            case .systemdSbsign: add(sbsign, "sign EFI binaries (SecureBootSignTool=systemd-sbsign)", .secureBootSignTool)
            case .sbsign: add(["sbsign"], "sign EFI binaries (SecureBootSignTool=sbsign)", .secureBootSignTool)
            case .auto: add(sbsign + ["sbsign"], "sign EFI binaries for SecureBoot=yes", .secureBoot)
            }
        }
        if config[.signExpectedPCR] == .enabled && (efi || ukiFormat) && format != .addon {
            add(["systemd-measure", "/usr/lib/systemd/systemd-measure"], "sign the expected PCR values (SignExpectedPcr=yes)",
                .signExpectedPCR)
        }
        if config[.splitArtifacts].contains(.pcrs) && (efi || ukiFormat) && format != .addon {
            // ukify --policy-digest runs systemd-measure policy-digest, new in systemd 258.
            add(["systemd-measure", "/usr/lib/systemd/systemd-measure"], systemd: 258, "generate TPM2 policy digests (SplitArtifacts=pcrs)",
                .splitArtifacts)
        }
        return result
    }

    /// Refusals that need only the configuration, as upstream's `check_inputs` makes them.
    static func refuseContradictions(_ config: Config, cwd: String) throws {
        func at<T>(_ key: SettingKey<T>) -> String {
            location(config, key, cwd: cwd).map { " (\($0))" } ?? ""
        }
        let genkey = "Run mkosi genkey to generate a key/certificate pair"
        if config.distribution == .kali, config[.snapshot] != nil {
            throw MkosiError.config("Snapshot=\(at(.snapshot)) is not supported for Kali Linux",
                                    hint: "Kali has no snapshot service; drop Snapshot=, or pin packages with Mirror= or LocalMirror=")
        }
        if config[.overlay] && config[.baseTrees].isEmpty {
            throw MkosiError.config("Overlay=yes\(at(.overlay)) can only be used with BaseTrees=",
                                    hint: "Name the image to extend with BaseTrees=, e.g. BaseTrees=%O/base")
        }
        if config.format == .portable && config[.overlay] {
            throw MkosiError.config("Overlay=yes\(at(.overlay)) cannot be used with Format=portable\(at(.outputFormat))",
                                    hint: "Portable service images are always full images and cannot be overlay images; "
                                        + "see https://systemd.io/PORTABLE_SERVICES/#extension-images for extending them")
        }
        // Upstream stops only when the first build script runs; the configuration says it already.
        if config[.buildSourcesEphemeral] == .buildcache, config[.buildDirectory] == nil,
           !config[.buildScripts].isEmpty, !config[.buildSources].isEmpty {
            throw MkosiError.config("BuildSourcesEphemeral=buildcache\(at(.buildSourcesEphemeral)) was configured, but no build directory exists",
                                    hint: "Configure BuildDirectory= or create mkosi.builddir")
        }
        try refuseKeySources(config, at: { at($0) })
        if config[.splitArtifacts].contains(.pcrs) && config[.signExpectedPCRCertificate] == nil {
            throw MkosiError.config("SplitArtifacts=pcrs\(at(.splitArtifacts)) needs the certificate the policy digests are for (SignExpectedPcrCertificate=)",
                                    hint: genkey)
        }
        if config[.verity] == .signed {
            if config[.verityKey] == nil {
                throw MkosiError.config("Verity=signed\(at(.verity)) is enabled but no verity key is configured (VerityKey=)", hint: genkey)
            }
            if config[.verityCertificate] == nil {
                throw MkosiError.config("Verity=signed\(at(.verity)) is enabled but no verity certificate is configured (VerityCertificate=)",
                                        hint: genkey)
            }
        }
        for (enabled, what, key, certificate) in [
            (config[.secureBoot], "SecureBoot=yes\(at(.secureBoot))", config[.secureBootKey], config[.secureBootCertificate]),
            (config[.signExpectedPCR] == .enabled, "SignExpectedPcr=yes\(at(.signExpectedPCR))", config[.signExpectedPCRKey],
             config[.signExpectedPCRCertificate]),
        ] where enabled {
            guard key != nil else { throw MkosiError.config("\(what) is enabled but no private key is configured", hint: genkey) }
            guard certificate != nil else { throw MkosiError.config("\(what) is enabled but no certificate is configured", hint: genkey) }
        }
    }

    /// Key and certificate sources the signing tools cannot take: ukify signs a UKI and its PCR
    /// predictions with one engine or provider, so the Secure Boot and expected PCR sources must
    /// agree when both sign (upstream refuses them differing at all); sbsign takes no provider.
    static func refuseKeySources(_ config: Config, at: (SettingKey<KeySource>) -> String) throws {
        if config[.secureBoot], config[.signExpectedPCR] != .disabled, config[.secureBootKey] != nil, config[.signExpectedPCRKey] != nil {
            for (secureBoot, pcr) in [(SettingKey<KeySource>.secureBootKeySource, SettingKey<KeySource>.signExpectedPCRKeySource),
                                      (.secureBootCertificateSource, .signExpectedPCRCertificateSource)]
            where config[secureBoot] != config[pcr] {
                throw MkosiError.config("\(secureBoot.setting.name)=\(config[secureBoot].argument)\(at(secureBoot)) and "
                                        + "\(pcr.setting.name)=\(config[pcr].argument)\(at(pcr)) differ",
                                        hint: "ukify signs the UKI and its PCR predictions with one source: make them the same")
            }
        }
        // Format=esp installs systemd-boot without bootctl: its auto-enrolment keys are signed
        // with efitools (sbvarsign), which read the key and certificate from files only.
        if config.format == .esp, SecureBoot.autoEnroll(config, bootctlVersion: nil) == .efitools {
            for source in [SettingKey<KeySource>.secureBootKeySource, .secureBootCertificateSource] where config[source].type != .file {
                throw MkosiError.config("\(source.setting.name)=\(config[source].argument)\(at(source)): SecureBootAutoEnroll= "
                                        + "writes the keys of a Format=esp image with efitools, which read files only",
                                        hint: "Use key and certificate files, or set SecureBootAutoEnroll=no")
            }
        }
        if config[.secureBoot], config[.secureBootSignTool] == .sbsign, let refusal = SecureBoot.sbsignRefusal(config) {
            throw MkosiError.config(refusal + " (SecureBootSignTool=sbsign)",
                                    hint: "Use SecureBootSignTool=systemd-sbsign or auto")
        }
    }

    /// Where `key`'s value was given, nil for a default. For a list, the origin that named `path`
    /// when that can be told (an auto-detected `mkosi.extra`, a single assignment); otherwise
    /// every place that added to the list.
    static func location<T>(_ config: Config, _ key: SettingKey<T>, path: String? = nil, cwd: String) -> String? {
        config.location(of: key, path: path, cwd: cwd)
    }

    // MARK: Verifying

    /// Checks `requirements` against `facts`.
    ///
    /// - Throws: one `MkosiError.config` listing every unmet requirement, each line starting
    ///   with where its setting was given; the hint is the first failure's.
    public static func verify(_ requirements: [Requirement], facts: some InputFacts) throws {
        var failures: [(String, String?)] = []
        var seen: Set<String> = []
        for r in requirements {
            guard let (message, hint) = check(r, facts: facts) else { continue }
            let line = (r.location.map { "\($0): " } ?? "") + message
            if seen.insert(line).inserted { failures.append((line, hint)) }
        }
        guard let first = failures.first else { return }
        throw MkosiError.config(failures.map(\.0).joined(separator: "\n"), hint: first.1)
    }

    /// The message and hint of an unmet requirement, nil when it holds.
    static func check(_ r: Requirement, facts: some InputFacts) -> (String, String?)? {
        let image = r.image == "main" ? "" : " of the \(r.image) image"
        let named = "\(r.path), named by \(r.setting)\(image),"
        switch r.need {
        case .tree(let hasTarget):
            guard facts.status(r.path) != nil else {
                let made = r.madeBy.map { " (the \($0) image was to make it)" } ?? ""
                return ("\(named) does not exist\(made)", "Create it, or remove it from \(r.setting)")
            }
            if r.path.hasSuffix(".raw") && !hasTarget && !FS.isDirectory(r.path) && !facts.isHostRoot {
                return ("\(named) is a disk image, which needs root to be read",
                        "Give it a target (SRC:DST) to copy the file itself, or build as root")
            }
        case .file:
            guard let st = facts.status(r.path) else { return ("\(named) does not exist", nil) }
            guard st.isRegular else { return ("\(named) is not a file", nil) }
        case .readableFile:
            guard let st = facts.status(r.path) else {
                return ("\(named) does not exist", r.setting == "Passphrase=" ? nil : "Run mkosi genkey to generate a key/certificate pair")
            }
            guard st.isRegular, facts.isReadable(r.path) else { return ("\(named) is not a readable file", nil) }
        case .script(let makeExecutable):
            guard let st = facts.status(r.path) else { return ("\(named) does not exist", nil) }
            guard st.isRegular else { return ("\(named) is not a file", "\(r.setting) names programs to run") }
            guard makeExecutable || facts.isExecutable(r.path) else {
                return ("\(named) is not executable", "chmod +x it, or set MakeScriptsExecutable=yes")
            }
        case .toolsTree:
            guard facts.status(r.path)?.isDirectory == true else { return ("\(named) does not exist", "Use ToolsTree=default to let mkosi build one") }
            guard facts.status(Path.join(r.path, "usr"))?.isDirectory == true else {
                return ("\(named) has no /usr", "Use ToolsTree=default to let mkosi build one")
            }
        case .keyPair(let certificate):
            // Unreadable or missing files are told by their own requirements.
            guard facts.isReadable(r.path), facts.isReadable(certificate),
                  let problem = facts.keyPairProblem(key: r.path, certificate: certificate, toolsTree: r.toolsTree, searchPaths: r.searchPaths)
            else { return nil }
            return ("\(r.path), named by \(r.setting)\(image), and the certificate \(certificate) fail systemd-keyutil validate: \(problem)",
                    "Run mkosi genkey to generate a key/certificate pair")
        case .toolUnlessNewer(let names, let purpose, let unless, let systemd):
            if let found = facts.findTool([unless], toolsTree: r.toolsTree, searchPaths: r.searchPaths),
               (facts.systemdVersion(found, toolsTree: r.toolsTree, searchPaths: r.searchPaths) ?? 0) >= systemd {
                return nil
            }
            var tool = r
            tool.need = .tool(names: names, minimumSystemd: nil, purpose: purpose)
            return check(tool, facts: facts).map {
                ($0.0, "Add \(names[0] == "openssl" ? "openssl" : "efitools") to the tools, or use \(unless) from systemd \(systemd) or newer")
            }
        case .tool(let names, let minimum, let purpose):
            let place = r.toolsTree.map { "the tools tree \($0)" } ?? "this host"
            let hint = r.toolsTree == nil
                ? "Set ToolsTree=default to build with the tools of a current Debian tree"
                : "Add a newer systemd to the tools tree (ToolsTreePackages=, ToolsTreeRelease=)"
            guard let found = facts.findTool(names, toolsTree: r.toolsTree, searchPaths: r.searchPaths) else {
                let shown = names.filter { !$0.hasPrefix("/") }.joined(separator: " or ")
                return ("\(r.setting)\(image) needs \(shown) to \(purpose), and \(place) \(shown.contains(" or ") ? "has neither" : "does not have it")", hint)
            }
            if let minimum {
                let version = facts.systemdVersion(found, toolsTree: r.toolsTree, searchPaths: r.searchPaths) ?? 0
                if version < minimum {
                    return ("\(r.setting)\(image) needs \(names[0]) from systemd \(minimum) or newer to \(purpose); "
                            + "\(place) has \(version == 0 ? "one whose version cannot be told" : "systemd \(version)")", hint)
                }
            }
        }
        return nil
    }
}
