import MkosiConfig
import MkosiCore

/// openSUSE's repositories: Tumbleweed (also its snapshots in `history/`), Leap 15 and 16.
extension DistributionDescription {
    func openSUSERepositories(_ config: Config, keys: RpmKeys, zypper: Bool) throws -> [RpmRepository] {
        if let local = config[.localMirror] { return [RpmRepository("local-mirror", "baseurl=\(local)", [])] }
        let mirror = config[.mirror] ?? "https://download.opensuse.org"
        let release = config.release, arch = config.architecture
        let required = !config[.repositoryKeyFetch]
        func gpg(_ names: [String]) throws -> [String] { try names.compactMap { try keys.find($0, required: required) } }
        // Without local keys, dnf is pointed at the keys each repository publishes; zypper
        // imports them itself.
        func keysFor(_ url: String, _ found: [String]) -> [String] {
            if !found.isEmpty || zypper { return found }
            return ["\(url)/repodata/repomd.xml.key"]
        }
        var result: [RpmRepository] = []
        if release == "tumbleweed" {
            let found = try gpg(["RPM-GPG-KEY-openSUSE-Tumbleweed", "RPM-GPG-KEY-openSUSE"])
            let snapshot = config[.snapshot]
            let subdir: String
            if let snapshot {
                guard arch == .x86_64 else { throw MkosiError(.config, "Snapshot= is only supported for x86-64 on openSUSE") }
                subdir = "history/\(snapshot)"
            } else {
                guard let ports = Self.openSUSEPorts(arch, tumbleweed: true) else {
                    throw MkosiError(.config, "\(arch.rawValue) not supported by openSUSE Tumbleweed")
                }
                subdir = ports
            }
            for name in ["oss", "non-oss"] {
                let url = Self.joinMirror(mirror, "\(subdir)/tumbleweed/repo/\(name)")
                result.append(RpmRepository(name, "baseurl=\(url)", keysFor(url, found), enabled: name == "oss"))
                if snapshot == nil {
                    for d in ["debug", "source"] where !(name == "non-oss" && d == "debug") {
                        let url = Self.joinMirror(mirror, "\(subdir)/\(d)/tumbleweed/repo/\(name)")
                        result.append(RpmRepository("\(name)-\(d)", "baseurl=\(url)", keysFor(url, found), enabled: false))
                    }
                }
            }
            if snapshot == nil {
                let update = Self.joinMirror(mirror, "\(subdir)/update/tumbleweed")
                result.append(RpmRepository("oss-update", "baseurl=\(update)", keysFor(update, found)))
                let nonOSS = Self.joinMirror(mirror, "\(subdir)/update/tumbleweed-non-oss")
                result.append(RpmRepository("non-oss-update", "baseurl=\(nonOSS)", keysFor(nonOSS, found), enabled: false))
            }
            return result
        }
        // Leap releases cannot be mapped to keys reliably, so every candidate is imported.
        let found = try gpg(["RPM-GPG-KEY-openSUSE", "RPM-GPG-KEY-openSUSE-16-Backports", "RPM-GPG-KEY-openSUSE-2022",
                             "RPM-GPG-KEY-openSUSE-Backports", "RPM-GPG-KEY-openSUSE-Backports-2023", "RPM-GPG-KEY-SuSE-SLE-15",
                             "RPM-GPG-KEY-SuSE-SLE-Main-2023", "RPM-GPG-KEY-SuSE-ALP-Main"])
        if config[.snapshot] != nil { throw MkosiError(.config, "Snapshot= is only supported for Tumbleweed on openSUSE") }
        let current = ["current", "stable", "leap"].contains(release)
        if current && arch != .x86_64 {
            throw MkosiError(.config, "openSUSE only supports current and stable releases for the x86-64 architecture",
                             hint: "Specify either tumbleweed or a specific leap release such as 15.6")
        }
        let distribution = current ? "openSUSE-current" : "leap/\(release)"
        guard var subdir = Self.openSUSEPorts(arch, tumbleweed: false) else {
            throw MkosiError(.config, "\(arch.rawValue) not supported by openSUSE \(release)")
        }
        for name in ["oss", "non-oss"] {
            let url = Self.joinMirror(mirror, "\(subdir)/distribution/\(distribution)/repo/\(name)")
            result.append(RpmRepository(name, "baseurl=\(url)", keysFor(url, found), enabled: name == "oss"))
        }
        for d in ["debug", "source"] {
            for name in ["oss", "non-oss"] {
                let url = Self.joinMirror(mirror, "\(subdir)/\(d)/distribution/\(distribution)/repo/\(name)")
                result.append(RpmRepository("\(name)-\(d)", "baseurl=\(url)", keysFor(url, found), enabled: false))
            }
        }
        // Upstream appends without a separating slash here.
        if current || Version.compare(release, "16") >= 0 { subdir += "distribution/\(distribution)/repo" } else { subdir += "update/\(distribution)" }
        for name in ["oss", "non-oss"] {
            let url = Self.joinMirror(mirror, "\(subdir)/\(name)")
            result.append(RpmRepository("\(name)-update", "baseurl=\(url)", keysFor(url, found), enabled: name == "oss"))
        }
        return result
    }

    /// Where a non-x86 architecture's repositories are below the mirror (`ports/…`; empty for
    /// x86-64), nil where openSUSE has none (RISC-V only for Tumbleweed).
    static func openSUSEPorts(_ arch: Architecture, tumbleweed: Bool) -> String? {
        switch arch {
        case .x86_64: return ""
        case .arm64: return "ports/aarch64"
        case .arm: return "ports/armv7hl"
        case .ppc64LE, .ppc64, .ppc: return "ports/ppc"
        case .s390x, .s390: return "ports/zsystems"
        case .riscv64: return tumbleweed ? "ports/riscv" : nil
        default: return nil
        }
    }
}
