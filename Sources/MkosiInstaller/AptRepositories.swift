import MkosiConfig
import MkosiCore

/// The apt repositories of Debian, Ubuntu and Kali.
extension DistributionDescription {
    /// The repositories of `config` (mirrors, suites, components), as the package manager
    /// renders them; `LocalMirror=` replaces them all.
    public func aptRepositories(_ config: Config) -> [AptRepository] {
        let trusted = !config[.repositoryKeyCheck]
        if let local = config[.localMirror] {
            return [AptRepository(url: local, suites: [config.release], components: ["main"], keyring: nil)]
        }
        let release = config.release
        let components = ["main"] + config[.repositories]
        let keyring = trusted ? nil : self.keyring
        func repo(_ url: String, _ suites: [String]) -> AptRepository {
            AptRepository(url: url, suites: suites, components: components, keyring: keyring)
        }
        switch distribution {
        case .ubuntu:
            let mirror = config[.mirror]
                ?? (config.architecture == .x86_64 || config.architecture == .x86 ? "http://archive.ubuntu.com/ubuntu" : "http://ports.ubuntu.com")
            // The security suite is never mirrored, as upstream has it.
            let x86 = config.architecture == .x86_64 || config.architecture == .x86
            // Snapshot=: the archive as it was then, through apt's own `Snapshot:` field (which
            // apt resolves against snapshot.ubuntu.com), on every suite, as upstream writes it.
            return [repo(mirror, [release, "\(release)-updates"]),
                    repo(x86 ? "http://security.ubuntu.com/ubuntu" : "http://ports.ubuntu.com", ["\(release)-security"])]
                .map { var r = $0; r.snapshot = config[.snapshot]; return r }
        case .kali:
            return [repo(config[.mirror] ?? "http://http.kali.org/kali", [release])]
        case .debian:
            let rolling = ["unstable", "sid"].contains(release)
            if let snapshot = config[.snapshot] {
                // snapshot.debian.org: one archive state; there are no -updates suites there.
                let mirror = config[.mirror] ?? "https://snapshot.debian.org"
                var result = [repo(AptRepository.join(mirror, "archive/debian/\(snapshot)"), [release])]
                if !rolling { result.append(repo(AptRepository.join(mirror, "archive/debian-security/\(snapshot)"), ["\(release)-security"])) }
                return result
            }
            let mirror = config[.mirror] ?? "http://deb.debian.org"
            var result = [repo(AptRepository.join(mirror, "debian"), rolling ? [release] : [release, "\(release)-updates"])]
            if !rolling { result.append(repo(AptRepository.join(mirror, "debian-security"), ["\(release)-security"])) }
            return result
        default:
            return []
        }
    }

    /// The repositories an image that has the package manager itself uses later, as upstream
    /// writes them into it: the distribution's public mirrors (not `Mirror=`, `Snapshot=` or
    /// `LocalMirror=`, which are for building), with sources and debug symbols.
    public func aptImageRepositories(_ config: Config) -> [AptRepository] {
        let release = config.release
        let components = ["main"] + config[.repositories]
        func repo(_ url: String, _ suite: String) -> AptRepository {
            AptRepository(url: url, suites: [suite], components: components, keyring: keyring, types: ["deb", "deb-src"])
        }
        switch distribution {
        case .debian:
            var result = [repo("http://deb.debian.org/debian", release), repo("http://deb.debian.org/debian-debug", "\(release)-debug")]
            if !["unstable", "sid"].contains(release) {
                result += [repo("http://deb.debian.org/debian", "\(release)-updates"),
                           repo("http://deb.debian.org/debian-security", "\(release)-security")]
            }
            return result
        case .ubuntu:
            let x86 = config.architecture == .x86_64 || config.architecture == .x86
            let main = x86 ? "http://archive.ubuntu.com/ubuntu" : "http://ports.ubuntu.com"
            return [repo(main, release), repo(main, "\(release)-updates"),
                    repo(x86 ? "http://security.ubuntu.com/ubuntu" : "http://ports.ubuntu.com", "\(release)-security")]
        case .kali:
            return [repo("http://http.kali.org/kali", release)]
        default:
            return []
        }
    }
}

/// One apt repository: a URL with suites (or releases) and components, checked against `keyring`
/// (nil: trusted without a signature check).
public struct AptRepository: Sendable, Equatable {
    public var url: String
    public var suites: [String]
    public var components: [String]
    public var keyring: String?
    /// Package types (`deb`, `deb-src`).
    public var types: [String] = ["deb"]
    /// apt's `Snapshot:` field: the archive state to use (Ubuntu's `Snapshot=`).
    public var snapshot: String? = nil

    public init(url: String, suites: [String], components: [String], keyring: String?, types: [String] = ["deb"]) {
        self.url = url
        self.suites = suites
        self.components = components
        self.keyring = keyring
        self.types = types
    }

    static func join(_ base: String, _ path: String) -> String { (base.hasSuffix("/") ? base : base + "/") + path }
}
