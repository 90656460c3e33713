import Foundation
import MkosiConfig
import MkosiCore
import MkosiInstaller
import Testing

/// The repositories a distribution description derives from the configuration: for building
/// (Mirror=, Snapshot=, LocalMirror=, RepositoryKeyCheck=) and for the image itself.
@Suite struct RepositoryTests {
    func config(_ conf: String) throws -> Config {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-installer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try conf.write(toFile: dir + "/mkosi.conf", atomically: true, encoding: .utf8)
        let loaded = try ConfigLoader.load(["build"], cwd: dir, resources: BuiltinResources())
        return try #require(loaded.main)
    }

    /// A sandbox tree's own `mkosi.sources` is kept, as upstream (the differential bench found
    /// ours overwriting it with the default repositories); other sources replace the defaults.
    @Test func sandboxTreeSourcesDecideTheDefaults() {
        #expect(Apt.writesDefaultSources(sourcesList: false, sourcesParts: []))
        #expect(Apt.writesDefaultSources(sourcesList: false, sourcesParts: ["mkosi-local.sources"]))
        #expect(!Apt.writesDefaultSources(sourcesList: false, sourcesParts: ["mkosi.sources"]))
        #expect(!Apt.writesDefaultSources(sourcesList: false, sourcesParts: ["debian.sources"]))
        #expect(!Apt.writesDefaultSources(sourcesList: true, sourcesParts: []))
    }

    @Test func debianBuildRepositories() throws {
        let c = try config("[Distribution]\nDistribution=debian\nRelease=trixie\nRepositories=contrib\n")
        let repos = DistributionDescription.of(.debian).aptRepositories(c)
        #expect(repos.map(\.url) == ["http://deb.debian.org/debian", "http://deb.debian.org/debian-security"])
        #expect(repos[0].suites == ["trixie", "trixie-updates"] && repos[1].suites == ["trixie-security"])
        #expect(repos.allSatisfy { $0.components == ["main", "contrib"] && $0.keyring == "/usr/share/keyrings/debian-archive-keyring.gpg" })

        let mirror = try config("[Distribution]\nDistribution=debian\nRelease=sid\nMirror=http://127.0.0.1:8080\nRepositoryKeyCheck=no\n")
        let sid = DistributionDescription.of(.debian).aptRepositories(mirror)
        #expect(sid == [AptRepository(url: "http://127.0.0.1:8080/debian", suites: ["sid"], components: ["main"], keyring: nil)])

        let snapshot = try config("[Distribution]\nDistribution=debian\nRelease=trixie\nSnapshot=20250101T000000Z\n")
        #expect(DistributionDescription.of(.debian).aptRepositories(snapshot).map(\.url)
                == ["https://snapshot.debian.org/archive/debian/20250101T000000Z",
                    "https://snapshot.debian.org/archive/debian-security/20250101T000000Z"])

        let local = try config("[Distribution]\nDistribution=debian\nRelease=trixie\nLocalMirror=file:///srv/mirror\n")
        #expect(DistributionDescription.of(.debian).aptRepositories(local)
                == [AptRepository(url: "file:///srv/mirror", suites: ["trixie"], components: ["main"], keyring: nil)])
    }

    /// Ubuntu's `Snapshot=` is apt's `Snapshot:` field on every suite, as upstream writes it;
    /// the stanza then ends in that line and one blank line (without it, in an empty line too).
    @Test func ubuntuSnapshotIsAptsSnapshotField() throws {
        let c = try config("[Distribution]\nDistribution=ubuntu\nRelease=noble\nSnapshot=20250101T000000Z\n")
        let repos = DistributionDescription.of(.ubuntu).aptRepositories(c)
        #expect(repos.count == 2 && repos.allSatisfy { $0.snapshot == "20250101T000000Z" })
        let sources = Apt.buildSources(repos)
        #expect(sources.components(separatedBy: "Snapshot: 20250101T000000Z\n\n").count == 4, "\(sources)")
        #expect(sources.hasPrefix("Types: deb\nURIs: http://archive.ubuntu.com/ubuntu\nSuites: noble\nComponents: main\n"
                                  + "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\nSnapshot: 20250101T000000Z\n\nTypes: deb\n"),
                "\(sources)")
        let plain = try config("[Distribution]\nDistribution=ubuntu\nRelease=noble\n")
        let without = Apt.buildSources(DistributionDescription.of(.ubuntu).aptRepositories(plain))
        #expect(!without.contains("Snapshot") && without.hasSuffix("keyring.gpg\n\n\n"), "\(without)")
    }

    /// What an image with apt keeps: the public mirrors (never Mirror=), sources and debug suites.
    @Test func debianImageRepositories() throws {
        let c = try config("[Distribution]\nDistribution=debian\nRelease=trixie\nMirror=http://127.0.0.1:8080\n")
        let repos = DistributionDescription.of(.debian).aptImageRepositories(c)
        #expect(repos.map { "\($0.url) \($0.suites[0])" } == [
            "http://deb.debian.org/debian trixie", "http://deb.debian.org/debian-debug trixie-debug",
            "http://deb.debian.org/debian trixie-updates", "http://deb.debian.org/debian-security trixie-security",
        ])
        #expect(repos.allSatisfy { $0.types == ["deb", "deb-src"] })
    }

    @Test func everyDistributionButCustomHasAnInstaller() throws {
        for d in Distribution.allCases {
            #expect((DistributionDescription.of(d).packageManager != nil) == (d != .custom), "\(d.rawValue)")
        }
        #expect(try DistributionDescription.of(.debian).architectureName(.x86_64) == "amd64")
        #expect(try DistributionDescription.of(.fedora).architectureName(.arm64) == "aarch64")
        #expect(throws: MkosiError.self) { try DistributionDescription.of(.arch).architectureName(.s390x) }
        // openSUSE falls back to dnf when the tools have no zypper.
        #expect(DistributionDescription.of(.opensuse).packageManager(findTool: { $0 == "dnf" }) == Dnf.self as Any.Type?)
    }

    /// Mirrors joined with paths as upstream's urljoin does.
    @Test func joinMirror() {
        #expect(DistributionDescription.joinMirror("http://h:1", "a/b") == "http://h:1/a/b")
        #expect(DistributionDescription.joinMirror("http://h:1/x/", "/a") == "http://h:1/x/a")
        #expect(DistributionDescription.joinMirror("http://h:1/centos", "../fedora") == "http://h:1/fedora")
        #expect(DistributionDescription.joinMirror("http://h:1", "../fedora") == "http://h:1/fedora")
        #expect(DistributionDescription.joinMirror("http://h:1/a/b", "$stream/BaseOS") == "http://h:1/a/b/$stream/BaseOS")
    }

    /// RepositoryKeyFetch=yes for rawhide: the key distribution-gpg-keys' rawhide link names on
    /// GitHub, the one before, and the next one once it exists.
    @Test func rawhideKeysAreLookedUpRemotely() throws {
        let c = try config("[Distribution]\nDistribution=fedora\nRelease=rawhide\nRepositoryKeyFetch=yes\n")
        struct NotFound: Error {}
        let keys = RpmKeys(fetch: true, download: { url in
            if url.hasSuffix("/RPM-GPG-KEY-fedora-rawhide-primary") { return "RPM-GPG-KEY-fedora-45-primary\n" }
            if url.hasSuffix("/RPM-GPG-KEY-fedora-46-primary") { return "-----BEGIN PGP PUBLIC KEY BLOCK-----" }
            throw NotFound()
        }, locate: { _ in nil })
        let repos = try DistributionDescription.of(.fedora).rpmRepositories(c, keys: keys)
        #expect(repos.first?.gpgURLs.map { String($0.split(separator: "/").last ?? "") }
                == ["RPM-GPG-KEY-fedora-45-primary", "RPM-GPG-KEY-fedora-44-primary", "RPM-GPG-KEY-fedora-46-primary"])
    }

    /// RHEL without Mirror= uses the CDN with the subscription's certificates from the sandbox,
    /// and says which one is missing.
    @Test func rhelCDNNeedsTheSubscriptionCertificates() throws {
        let c = try config("[Distribution]\nDistribution=rhel\nRelease=9\n")
        let found = RpmKeys(fetch: false, listSandbox: { dir in
            dir == "etc/rhsm/ca" ? ["redhat-uep.pem"] : ["1234-key.pem", "1234.pem"]
        }, locate: { "/etc/pki/rpm-gpg/" + $0 })
        let repos = try DistributionDescription.of(.rhel).rpmRepositories(c, keys: found)
        #expect(repos.first?.url == "baseurl=https://cdn.redhat.com/content/dist/rhel9/9/$basearch/baseos/os")
        #expect(repos.first?.sslCACert == "etc/rhsm/ca/redhat-uep.pem")
        #expect(repos.first?.sslClientKey == "/etc/pki/entitlement/1234-key.pem")
        #expect(repos.first?.sslClientCert == "/etc/pki/entitlement/1234.pem")
        #expect(Dnf.repoFile([repos[0]], repoGPGCheck: false, metadataExpire: nil).contains(
            "sslcacert=etc/rhsm/ca/redhat-uep.pem\nsslclientcert=/etc/pki/entitlement/1234.pem\nsslclientkey=/etc/pki/entitlement/1234-key.pem\n"))
        let missing = RpmKeys(fetch: false, listSandbox: { _ in [] }, locate: { "/etc/pki/rpm-gpg/" + $0 })
        #expect(throws: MkosiError.self) { try DistributionDescription.of(.rhel).rpmRepositories(c, keys: missing) }
    }
}
