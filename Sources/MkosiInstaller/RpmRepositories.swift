import MkosiConfig
import MkosiCore

/// The rpm-md repositories of Fedora, CentOS Stream and its rebuilds (RHEL, RHEL UBI, Alma,
/// Rocky, with EPEL and the Hyperscale SIG), Azure Linux, Mageia, OpenMandriva and openSUSE:
/// the same ids, URLs, keys and enabled states as upstream writes for the same settings.
extension DistributionDescription {
    /// The repositories of `config`, with keys from `keys`.
    ///
    /// - Parameter zypper: whether zypper reads them (openSUSE without keys then lets zypper
    ///   fetch the repositories' own keys instead of naming them).
    /// - Throws: `MkosiError` for settings the distribution does not support (such as
    ///   `Snapshot=` where it has no snapshots) and for missing keys.
    public func rpmRepositories(_ config: Config, keys: RpmKeys, zypper: Bool = false) throws -> [RpmRepository] {
        switch distribution {
        case .fedora: return try fedoraRepositories(config, keys: keys)
        case .centos, .alma, .rocky, .rhel, .rhelUbi: return try centOSRepositories(config, keys: keys)
        case .azure: return try azureRepositories(config, keys: keys)
        case .mageia: return try mageiaRepositories(config, keys: keys)
        case .openmandriva: return try openMandrivaRepositories(config, keys: keys)
        case .opensuse: return try openSUSERepositories(config, keys: keys, zypper: zypper)
        default: return []
        }
    }

    func unsupportedSnapshot(_ config: Config) throws {
        if config[.snapshot] != nil {
            throw MkosiError(.config, "Snapshot= is not supported for \(distribution.prettyName)")
        }
    }

    // MARK: Fedora and its derivatives

    /// The Fedora keys: the release's primary key; for rawhide also the previous and every
    /// newer one found, as the rawhide key moves with each release.
    func fedoraKeys(_ config: Config, keys: RpmKeys) throws -> [String] {
        let upstream = "https://raw.githubusercontent.com/rpm-software-management/distribution-gpg-keys/main/keys/fedora"
        let release = config.release == "eln" ? "rawhide" : config.release
        if release == "rawhide" && keys.fetch {
            // Rawhide's key changes with every release: distribution-gpg-keys' rawhide link names
            // the current one (its contents on GitHub are the link's target). N-1 comes too, and
            // N+1 when it exists already.
            let link = try keys.download("\(upstream)/RPM-GPG-KEY-fedora-rawhide-primary").trimmed()
            guard let version = Self.fedoraKeyVersion(link) else {
                throw MkosiError(.invalidData, "Missing Fedora version in remote rawhide key \(link) from distribution-gpg-keys")
            }
            var result = ["\(upstream)/RPM-GPG-KEY-fedora-\(version)-primary", "\(upstream)/RPM-GPG-KEY-fedora-\(version - 1)-primary"]
            if (try? keys.download("\(upstream)/RPM-GPG-KEY-fedora-\(version + 1)-primary")) != nil {
                result.append("\(upstream)/RPM-GPG-KEY-fedora-\(version + 1)-primary")
            }
            return result
        }
        let key = try keys.find("RPM-GPG-KEY-fedora-\(release)-primary", fallback: "\(upstream)/RPM-GPG-KEY-fedora-\(release)-primary")!
        var result = [key]
        guard release == "rawhide", let version = Self.fedoraKeyVersion(key) else { return result }
        if let previous = try keys.find("RPM-GPG-KEY-fedora-\(version - 1)-primary") { result.append(previous) }
        var next = version + 1
        while let newer = try keys.find("RPM-GPG-KEY-fedora-\(next)-primary", required: false) {
            result.append(newer)
            next += 1
        }
        return result
    }

    /// N of a URL ending in `RPM-GPG-KEY-fedora-N-primary`.
    static func fedoraKeyVersion(_ url: String) -> Int? {
        let name = Path.basename(url)
        guard name.hasPrefix("RPM-GPG-KEY-fedora-"), name.hasSuffix("-primary") else { return nil }
        return Int(name.dropFirst("RPM-GPG-KEY-fedora-".count).dropLast("-primary".count))
    }

    func fedoraRepositories(_ config: Config, keys: RpmKeys) throws -> [RpmRepository] {
        let gpg = try fedoraKeys(config, keys: keys)
        let release = config.release, snapshot = config[.snapshot]
        var mirror = config[.mirror]
        if mirror == nil && snapshot != nil { mirror = "https://kojipkgs.fedoraproject.org" }
        if mirror == "https://kojipkgs.fedoraproject.org" && snapshot == nil {
            throw MkosiError(.config, "Snapshot= must be used on Fedora Linux if Mirror=https://kojipkgs.fedoraproject.org")
        }
        func repo(_ id: String, _ url: String, enabled: Bool = true) -> RpmRepository {
            RpmRepository(id, url, gpg, enabled: enabled, repoGPGCheck: false)
        }
        if let local = config[.localMirror] { return [repo("fedora", "baseurl=\(local)")] }
        var result: [RpmRepository] = []
        if release == "eln" {
            let base = config[.mirror] ?? "https://dl.fedoraproject.org/pub/eln/1/"
            for name in ["AppStream", "BaseOS", "Extras", "CRB"] {
                let url = "baseurl=" + Self.joinMirror(base, name)
                result += [repo(name.lowercased(), "\(url)/$basearch/os"),
                           repo("\(name.lowercased())-debuginfo", "\(url)/$basearch/debug/tree", enabled: false),
                           repo("\(name.lowercased())-source", "\(url)/source/tree", enabled: false)]
            }
        } else if let mirror {
            let subdir: String
            if let snapshot {
                subdir = "compose/\(release)/Fedora-\(release.prefix(1).uppercased() + release.dropFirst())-\(snapshot)/compose"
            } else {
                subdir = "linux/" + (release == "rawhide" ? "development" : "releases") + "/$releasever"
            }
            let url = "baseurl=" + Self.joinMirror(mirror, "\(subdir)/Everything")
            result += [repo("fedora", "\(url)/$basearch/os"), repo("fedora-debuginfo", "\(url)/$basearch/debug/tree", enabled: false),
                       repo("fedora-source", "\(url)/source/tree", enabled: false)]
            if release != "rawhide" && snapshot == nil {
                let updates = "baseurl=" + Self.joinMirror(mirror, "linux/updates/$releasever/Everything")
                result += [repo("updates", "\(updates)/$basearch"), repo("updates-debuginfo", "\(updates)/$basearch/debug", enabled: false),
                           repo("updates-source", "\(updates)/source/tree", enabled: false)]
                let testing = "baseurl=" + Self.joinMirror(mirror, "linux/updates/testing/$releasever/Everything")
                result += [repo("updates-testing", "\(testing)/$basearch", enabled: false),
                           repo("updates-testing-debuginfo", "\(testing)/$basearch/debug", enabled: false),
                           repo("updates-testing-source", "\(testing)/source/tree", enabled: false)]
            }
        } else {
            let url = "metalink=https://mirrors.fedoraproject.org/metalink?arch=$basearch"
            result += [repo("fedora", "\(url)&repo=fedora-$releasever"),
                       repo("fedora-debuginfo", "\(url)&repo=fedora-debug-$releasever", enabled: false),
                       repo("fedora-source", "\(url)&repo=fedora-source-$releasever", enabled: false)]
            if release != "rawhide" {
                result += [repo("updates", "\(url)&repo=updates-released-f$releasever"),
                           repo("updates-debuginfo", "\(url)&repo=updates-released-debug-f$releasever", enabled: false),
                           repo("updates-source", "\(url)&repo=updates-released-source-f$releasever", enabled: false),
                           repo("updates-testing", "\(url)&repo=updates-testing-f$releasever", enabled: false),
                           repo("updates-testing-debuginfo", "\(url)&repo=updates-testing-debug-f$releasever", enabled: false),
                           repo("updates-testing-source", "\(url)&repo=updates-testing-source-f$releasever", enabled: false)]
            }
        }
        return result
    }

    func azureRepositories(_ config: Config, keys: RpmKeys) throws -> [RpmRepository] {
        try unsupportedSnapshot(config)
        let gpg = [try keys.find("MICROSOFT-RPM-GPG-KEY", fallback:
            "https://raw.githubusercontent.com/rpm-software-management/distribution-gpg-keys/main/keys/azure-linux/MICROSOFT-RPM-GPG-KEY")!]
        if let local = config[.localMirror] { return [RpmRepository("base", "baseurl=\(local)", gpg)] }
        let url = Self.joinMirror(config[.mirror] ?? "https://packages.microsoft.com/azurelinux", config.release)
        var result: [RpmRepository] = []
        for name in ["base", "extended", "ms-oss", "ms-non-oss", "cloud-native", "nvidia"] {
            result.append(RpmRepository(name, "baseurl=\(url)/prod/\(name)/$basearch", gpg))
            let preview = name == "nvidia" ? "NVIDIA" : name
            result.append(RpmRepository("\(preview)-preview", "baseurl=\(url)/preview/\(preview)/$basearch", gpg, enabled: false))
        }
        for name in ["base", "cloud-native", "extended"] {
            result.append(RpmRepository("\(name)-debuginfo", "baseurl=\(url)/prod/\(name)/debuginfo/$basearch", gpg, enabled: false))
            result.append(RpmRepository("\(name)-preview-debuginfo", "baseurl=\(url)/preview/\(name)/debuginfo/$basearch", gpg,
                                        enabled: false))
        }
        for name in ["base", "cloud-native", "extended", "ms-oss"] {
            result.append(RpmRepository("\(name)-source", "baseurl=\(url)/prod/\(name)/srpms", gpg, enabled: false))
            result.append(RpmRepository("\(name)-source", "baseurl=\(url)/preview/\(name)/srpms", gpg, enabled: false))
        }
        return result
    }

    func mageiaRepositories(_ config: Config, keys: RpmKeys) throws -> [RpmRepository] {
        try unsupportedSnapshot(config)
        let gpg = [try keys.find("RPM-GPG-KEY-Mageia",
                                 fallback: "https://mirrors.kernel.org/mageia/distrib/$releasever/$basearch/media/core/release/media_info/pubkey")!]
        if let local = config[.localMirror] { return [RpmRepository("core-release", "baseurl=\(local)", gpg)] }
        if let mirror = config[.mirror] {
            let url = "baseurl=" + Self.joinMirror(mirror, "distrib/$releasever/$basearch/media/core/")
            return [RpmRepository("core-release", "\(url)/release", gpg), RpmRepository("core-updates", "\(url)/updates/", gpg)]
        }
        let url = "mirrorlist=https://www.mageia.org/mirrorlist/?release=$releasever&arch=$basearch&section=core"
        return [RpmRepository("core-release", "\(url)&repo=release", gpg), RpmRepository("core-updates", "\(url)&repo=updates", gpg)]
    }

    func openMandrivaRepositories(_ config: Config, keys: RpmKeys) throws -> [RpmRepository] {
        try unsupportedSnapshot(config)
        let gpg = [try keys.find("RPM-GPG-KEY-OpenMandriva", fallback:
            "https://raw.githubusercontent.com/OpenMandrivaAssociation/openmandriva-repos/master/RPM-GPG-KEY-OpenMandriva")!]
        if let local = config[.localMirror] { return [RpmRepository("main-release", "baseurl=\(local)", gpg)] }
        let url = "baseurl=" + Self.joinMirror(config[.mirror] ?? "http://mirror.openmandriva.org", "$releasever/repository/$basearch/main")
        return [RpmRepository("main-release", "\(url)/release", gpg), RpmRepository("main-updates", "\(url)/updates", gpg)]
    }

    /// `urljoin(mirror + "/", link)` as upstream joins mirrors and paths (`..` resolved).
    public static func joinMirror(_ mirror: String, _ link: String) -> String {
        let base = mirror.hasSuffix("/") ? mirror : mirror + "/"
        let rel = link.hasPrefix("/") ? String(link.dropFirst()) : link
        let chars = Array(base)
        var schemeEnd: Int?
        for i in 0..<max(0, chars.count - 2) where chars[i] == ":" && chars[i + 1] == "/" && chars[i + 2] == "/" {
            schemeEnd = i + 3
            break
        }
        guard let schemeEnd else { return base + rel }
        let afterScheme = base.dropFirst(schemeEnd)
        let hostEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let prefix = String(base[..<hostEnd])
        var segments = String(base[hostEnd...]).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        segments.removeLast()  // what follows the last slash of the base is replaced
        for part in rel.split(separator: "/", omittingEmptySubsequences: false).map(String.init) {
            switch part {
            case ".": continue
            case "..": if segments.count > 1 { segments.removeLast() }
            default: segments.append(part)
            }
        }
        var path = segments.joined(separator: "/")
        if rel.hasSuffix("/..") || rel.hasSuffix("/.") || rel == ".." || rel == "." { path += "/" }
        return prefix + path
    }
}
