import MkosiConfig
import MkosiCore

/// CentOS Stream and the distributions built like it: RHEL, RHEL UBI, AlmaLinux and Rocky
/// Linux, with EPEL (all disabled unless `Repositories=` enables them) and, for CentOS, the
/// Hyperscale SIG's repositories.
extension DistributionDescription {
    static let centOSSIGPriority = 50

    /// `10` of `10.1`.
    func majorRelease(_ config: Config) -> String { String(config.release.split(separator: ".").first ?? "") }

    func centOSRepositories(_ config: Config, keys: RpmKeys) throws -> [RpmRepository] {
        if Version.compare(config.release, "8") <= 0 {
            throw MkosiError(.config, "\(distribution.prettyName) Stream 8 or earlier variants are not supported")
        }
        if (distribution == .rhel || distribution == .rhelUbi || distribution == .alma || distribution == .rocky) {
            try unsupportedSnapshot(config)
        }
        let gpg = try centOSKeys(config, keys: keys)
        if config[.localMirror] != nil, [.centos, .alma, .rocky].contains(distribution) {
            return try centOSVariants(config, gpg, "AppStream", keys: keys)
        }
        var result: [RpmRepository] = []
        switch distribution {
        case .rhel, .rhelUbi:
            for name in ["baseos", "appstream", "codeready-builder"] { result += try centOSVariants(config, gpg, name, keys: keys) }
        default:
            for name in ["BaseOS", "AppStream", "CRB"] { result += try centOSVariants(config, gpg, name, keys: keys) }
            if config[.snapshot] == nil { result += try centOSVariants(config, gpg, "extras", keys: keys) }
        }
        result += try epelRepositories(config, keys: keys)
        if distribution == .centos { result += try sigRepositories(config, keys: keys) }
        return result
    }

    func centOSKeys(_ config: Config, keys: RpmKeys) throws -> [String] {
        let major = majorRelease(config)
        switch distribution {
        case .alma:
            return [try keys.find("RPM-GPG-KEY-AlmaLinux-\(major)", fallback: "https://repo.almalinux.org/almalinux/RPM-GPG-KEY-AlmaLinux-\(major)")!]
        case .rocky:
            return [try keys.find("RPM-GPG-KEY-Rocky-\(major)", fallback: "https://download.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-\(major)")!]
        case .rhel, .rhelUbi:
            return [try keys.find("RPM-GPG-KEY-redhat\(major)-release", fallback: "https://access.redhat.com/security/data/fd431d51.txt")!]
        default:
            let nine = Version.compare(config.release, "9") == 0
            // The name in /etc/pki/rpm-gpg, then the one in distribution-gpg-keys, which is only
            // required without the first.
            let one = try keys.find(nine ? "RPM-GPG-KEY-centosofficial" : "RPM-GPG-KEY-centosofficial-SHA256", required: false)
            let name = nine ? "RPM-GPG-KEY-CentOS-Official" : "RPM-GPG-KEY-CentOS-Official-SHA256"
            let two = try keys.find(name, fallback: "https://www.centos.org/keys/\(name)", required: one != nil)
            let sig = try keys.find("RPM-GPG-KEY-CentOS-SIG-Extras", fallback: "https://www.centos.org/keys/RPM-GPG-KEY-CentOS-SIG-Extras")
            return [one, two, sig].compactMap { $0 }
        }
    }

    /// One repository (`BaseOS`, `AppStream`, …) with its debug and source variants.
    func centOSVariants(_ config: Config, _ gpg: [String], _ name: String, keys: RpmKeys) throws -> [RpmRepository] {
        let release = config.release, major = majorRelease(config)
        switch distribution {
        case .alma, .rocky:
            let url: String
            if let mirror = config[.mirror] {
                url = "baseurl=" + Self.joinMirror(mirror, "$releasever/\(name)/$basearch/os")
            } else if distribution == .alma {
                url = "mirrorlist=https://mirrors.almalinux.org/mirrorlist/$releasever/\(name.lowercased())"
            } else {
                url = "mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=\(name)-$releasever"
            }
            return [RpmRepository(name, url, gpg)]
        case .rhel, .rhelUbi:
            if let local = config[.localMirror] { return [RpmRepository(name, "baseurl=\(local)", gpg)] }
            let ubi = distribution == .rhelUbi
            let mirror = config[.mirror] ?? (ubi ? "https://cdn-ubi.redhat.com/content/public/ubi/dist/" : "https://cdn.redhat.com/content/dist/")
            // ubi9/9/… and rhel9/9.4/…
            let (prefix, base) = ubi ? ("ubi-\(release)", "ubi\(release)/\(release)") : ("rhel-\(release)", "rhel\(major)/\(release)")
            func url(_ path: String) -> String { "baseurl=" + Self.joinMirror(mirror, "\(base)/$basearch/\(name)/\(path)") }
            var repos = [RpmRepository("\(prefix)-\(name)-rpms", url("os"), gpg),
                         RpmRepository("\(prefix)-\(name)-debug-rpms", url("debug"), gpg, enabled: false),
                         RpmRepository("\(prefix)-\(name)-source", url("source"), gpg, enabled: false)]
            if !ubi && config[.mirror] == nil {
                let (ca, key, cert) = try rhelCertificates(keys)
                for i in repos.indices { (repos[i].sslCACert, repos[i].sslClientKey, repos[i].sslClientCert) = (ca, key, cert) }
            }
            return repos
        default:
            break
        }
        // CentOS Stream.
        let snapshot = config[.snapshot]
        let composes = ["https://composes.stream.centos.org", "https://mirror.facebook.net/centos-composes"]
        var mirror = config[.mirror]
        if mirror == nil && snapshot != nil { mirror = composes[0] }
        if snapshot != nil, let m = mirror, !composes.contains(m) {
            throw MkosiError(.config, "Snapshot= is only supported for CentOS if Mirror=https://composes.stream.centos.org")
        }
        if let m = mirror, composes.contains(m), snapshot == nil {
            throw MkosiError(.config, "Snapshot= must be used on CentOS if Mirror=\(m)")
        }
        let id = name.lowercased()
        if let local = config[.localMirror] { return [RpmRepository(name, "baseurl=\(local)", gpg)] }
        if let mirror {
            var subdir: String
            if mirror == composes[0] { subdir = "stream-\(release)/production" }
            else if mirror == composes[1] { subdir = release }
            else if name == "extras" { subdir = "SIGs/$stream" }
            else { subdir = "$stream" }
            if let snapshot { subdir += "/CentOS-Stream-\(release)-\(snapshot)/compose" }
            if name == "extras" {
                // extras-common's metadata is signed with the SIG key, not the main one.
                return [RpmRepository(id, "baseurl=" + Self.joinMirror(mirror, "\(subdir)/\(name)/$basearch/extras-common"), gpg,
                                      repoGPGCheck: false),
                        RpmRepository("\(id)-source", "baseurl=" + Self.joinMirror(mirror, "\(subdir)/\(name)/source/extras-common"), gpg,
                                      enabled: false, repoGPGCheck: false)]
            }
            return [RpmRepository(id, "baseurl=" + Self.joinMirror(mirror, "\(subdir)/\(name)/$basearch/os"), gpg),
                    RpmRepository("\(id)-debuginfo", "baseurl=" + Self.joinMirror(mirror, "\(subdir)/\(name)/$basearch/debug/tree"), gpg,
                                  enabled: false),
                    RpmRepository("\(id)-source", "baseurl=" + Self.joinMirror(mirror, "\(subdir)/\(name)/source/tree"), gpg, enabled: false)]
        }
        let url = "metalink=https://mirrors.centos.org/metalink"
        if name == "extras" {
            return [RpmRepository(id, "\(url)?arch=$basearch&repo=centos-extras-sig-extras-common-$stream", gpg, repoGPGCheck: false),
                    RpmRepository("\(id)-source", "\(url)?arch=source&repo=centos-extras-sig-extras-common-source-$stream", gpg,
                                  enabled: false, repoGPGCheck: false)]
        }
        return [RpmRepository(id, "\(url)?arch=$basearch&repo=centos-\(id)-$stream", gpg),
                RpmRepository("\(id)-debuginfo", "\(url)?arch=$basearch&repo=centos-\(id)-debug-$stream", gpg, enabled: false),
                RpmRepository("\(id)-source", "\(url)?arch=source&repo=centos-\(id)-source-$stream", gpg, enabled: false)]
    }

    /// RHEL's CDN takes a subscription's certificates from the sandbox (mkosi.sandbox/ or the
    /// tools): the CA, an entitlement key and its certificate.
    func rhelCertificates(_ keys: RpmKeys) throws -> (String, String, String) {
        guard keys.listSandbox("etc/rhsm/ca").contains("redhat-uep.pem") else {
            throw MkosiError(.config, "redhat-uep.pem certificate not found in sandbox at etc/rhsm/ca/redhat-uep.pem",
                             hint: "Add the certificate to the sandbox with SandboxTrees= or mkosi.sandbox/")
        }
        let entitlement = keys.listSandbox("etc/pki/entitlement")
        guard let key = entitlement.first(where: { $0.hasSuffix("-key.pem") }) else {
            throw MkosiError(.config, "No entitlement keys found at etc/pki/entitlement/*-key.pem in sandbox",
                             hint: "Add an entitlement key to the sandbox with SandboxTrees= or mkosi.sandbox/")
        }
        guard let cert = entitlement.first(where: { $0.hasSuffix(".pem") && !$0.contains("-key.pem") }) else {
            throw MkosiError(.config, "No entitlement certificates found at etc/pki/entitlement/*.pem in sandbox",
                             hint: "Add an entitlement certificate to the sandbox with SandboxTrees= or mkosi.sandbox/")
        }
        return ("etc/rhsm/ca/redhat-uep.pem", "/etc/pki/entitlement/\(key)", "/etc/pki/entitlement/\(cert)")
    }

    func epelRepositories(_ config: Config, keys: RpmKeys) throws -> [RpmRepository] {
        let ten = Version.compare(config.release, "10") >= 0
        let major = majorRelease(config)
        let release = ten ? config.release : major
        // Since EPEL 10, minor releases (10.1) have their own repositories: "-z" in names, "z" in paths.
        let minor = config.release.contains(".") && ten
        let gpg = [try keys.find("RPM-GPG-KEY-EPEL-\(major)", fallback: "https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-\(major)")!]
        if config[.localMirror] != nil { return [] }
        func repo(_ id: String, _ url: String) -> RpmRepository { RpmRepository(id, url, gpg, enabled: false, repoGPGCheck: false) }
        var result: [RpmRepository] = []
        if let mirror = config[.mirror] {
            var dirs = [("epel", "epel"), ("epel-testing", "epel/testing")]
            if !ten { dirs += [("epel-next", "epel/next"), ("epel-next-testing", "epel/testing/next")] }
            // EPEL is assumed to be mirrored beside the mirror, unless $EPEL_MIRROR says where.
            let environment = Dictionary(config[.environment].pairs, uniquingKeysWith: { _, last in last })
            let url = environment["EPEL_MIRROR"] ?? Self.joinMirror(mirror, "../fedora")
            let reldir = release + (minor ? "z" : "")
            for (id, dir) in dirs {
                result += [repo(id, "baseurl=\(url)/\(dir)/\(reldir)/Everything/$basearch"),
                           repo("\(id)-debuginfo", "baseurl=\(url)/\(dir)/\(reldir)/Everything/$basearch/debug"),
                           repo("\(id)-source", "baseurl=\(url)/\(dir)/\(reldir)/Everything/source/tree")]
            }
        } else if ten {
            let url = "metalink=https://mirrors.fedoraproject.org/metalink"
            let z = minor ? "-z" : ""
            result += [repo("epel", "\(url)?repo=epel\(z)-\(release)&arch=$basearch"),
                       repo("epel-debuginfo", "\(url)?repo=epel\(z)-debug-\(release)&arch=$basearch"),
                       repo("epel-source", "\(url)?repo=epel\(z)-source-\(release)&arch=source"),
                       repo("epel-testing", "\(url)?repo=epel\(z)-testing-\(release)&arch=$basearch"),
                       repo("epel-testing-debuginfo", "\(url)?repo=epel\(z)-testing-debug-\(release)&arch=$basearch"),
                       repo("epel-testing-source", "\(url)?repo=epel\(z)-testing-source-\(release)&arch=source")]
        } else {
            let url = "metalink=https://mirrors.fedoraproject.org/metalink?arch=$basearch"
            for id in ["epel", "epel-next"] {
                result += [repo(id, "\(url)&repo=\(id)-\(release)"), repo("\(id)-debuginfo", "\(url)&repo=\(id)-debug-\(release)"),
                           repo("\(id)-source", "\(url)&repo=\(id)-source-\(release)")]
            }
            result += [repo("epel-testing", "\(url)&repo=testing-epel\(release)"),
                       repo("epel-testing-debuginfo", "\(url)&repo=testing-debug-epel\(release)"),
                       repo("epel-testing-source", "\(url)&repo=testing-source-epel\(release)"),
                       repo("epel-next-testing", "\(url)&repo=epel-testing-next-\(release)"),
                       repo("epel-next-testing-debuginfo", "\(url)&repo=epel-testing-next-debug-\(release)"),
                       repo("epel-next-testing-source", "\(url)&repo=epel-testing-next-source-\(release)")]
        }
        return result
    }

    func sigRepositories(_ config: Config, keys: RpmKeys) throws -> [RpmRepository] {
        if config[.localMirror] != nil { return [] }
        let sig = "hyperscale"
        let components = ["main", "experimental", "facebook", "hotfixes", "spin", "intel", "kernel"].map { "packages-\($0)" }
        let key = "RPM-GPG-KEY-CentOS-SIG-HyperScale"
        let gpg = [try keys.find(key, fallback: "https://www.centos.org/keys/\(key)")!]
        func repo(_ id: String, _ url: String) -> RpmRepository {
            RpmRepository(id, url, gpg, enabled: false, priority: Self.centOSSIGPriority)
        }
        var result: [RpmRepository] = []
        for c in components {
            if let mirror = config[.mirror] {
                result += [repo("\(sig)-\(c)", "baseurl=" + Self.joinMirror(mirror, "SIGs/$stream/\(sig)/$basearch/\(c)")),
                           repo("\(sig)-\(c)-debuginfo", "baseurl=" + Self.joinMirror(mirror, "SIGs/$stream/\(sig)/$basearch/\(c)/debug")),
                           repo("\(sig)-\(c)-source", "baseurl=" + Self.joinMirror(mirror, "SIGs/$stream/\(sig)/source/\(c)"))]
            } else {
                let url = "metalink=https://mirrors.centos.org/metalink"
                result += [repo("\(sig)-\(c)", "\(url)?arch=$basearch&repo=centos-\(sig)-sig-\(c)-$stream"),
                           repo("\(sig)-\(c)-debuginfo", "\(url)?arch=$basearch&repo=centos-\(sig)-sig-\(c)-debug-$stream"),
                           repo("\(sig)-\(c)-source", "\(url)?arch=source&repo=centos-\(sig)-sig-\(c)-source-$stream"),
                           repo("\(sig)-\(c)-testing", "baseurl=https://buildlogs.centos.org/centos/$stream/\(sig)/$basearch/\(c)"),
                           repo("\(sig)-\(c)-testing-debuginfo", "baseurl=https://buildlogs.centos.org/centos/$stream/\(sig)/$basearch/\(c)")]
            }
        }
        return result
    }
}
