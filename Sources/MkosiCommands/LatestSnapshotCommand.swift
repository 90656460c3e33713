#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox
import MkosiVM

/// `mkosi latest-snapshot`: the newest snapshot of the configured distribution's snapshot
/// service (`Mirror=` or the distribution's own), printed in the form `Snapshot=` takes, as
/// upstream: Debian (snapshot.debian.org's `mr/timestamp`), Ubuntu (the `Date:` of the
/// `-updates` Release file), Arch (the Arch Linux Archive's `lastsync`), Fedora and CentOS (the
/// latest compose's id) and openSUSE (`history/latest`). Fetched with curl in the tools tree.
enum LatestSnapshotCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        guard let main = loaded.main else { return }
        let release = main[.release]
        let mirror = main[.mirror]
        let snapshot: String
        switch main.distribution {
        case .debian:
            let text = try fetch(main, loaded.cwd, joinMirror(mirror ?? "https://snapshot.debian.org", "mr/timestamp"))
            guard case .array(let stamps)? = (try? JSON.parse(text))?["result"]?["debian"],
                  case .string(let last)? = stamps.last else {
                throw MkosiError(.invalidData, "The snapshot service's mr/timestamp has no result.debian list")
            }
            snapshot = last
        case .ubuntu:
            let text = try fetch(main, loaded.cwd, joinMirror(mirror ?? "http://snapshot.ubuntu.com", "ubuntu/dists/\(release)-updates/Release"))
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Date: ") }),
                  let stamp = ubuntuSnapshot(String(line.dropFirst(6))) else {
                throw MkosiError(.invalidData, "Release file is missing Date field")
            }
            snapshot = stamp
        case .arch:
            let text = try fetch(main, loaded.cwd, joinMirror(mirror ?? "https://archive.archlinux.org", "repos/last/lastsync"))
            guard let seconds = Int(text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first ?? "") else {
                throw MkosiError(.invalidData, "lastsync is not a timestamp: \(text.prefix(80))")
            }
            snapshot = archSnapshot(seconds)
        case .fedora:
            let name = release.prefix(1).uppercased() + release.dropFirst()
            let text = try fetch(main, loaded.cwd, joinMirror(mirror ?? "https://kojipkgs.fedoraproject.org",
                                                                "compose/\(release)/latest-Fedora-\(name)/COMPOSE_ID"))
            var id = Substring(text)
            if id.hasPrefix("Fedora-\(name)-") { id = id.dropFirst("Fedora-\(name)-".count) }
            snapshot = String(id.split(separator: "\n").first ?? "")
        case .centos:
            let base = mirror ?? "https://composes.stream.centos.org"
            let subdir = base == "https://mirror.facebook.net/centos-composes" ? release : "stream-\(release)/production"
            let text = try fetch(main, loaded.cwd, joinMirror(base, "\(subdir)/latest-CentOS-Stream/compose/.composeinfo"))
            let prefix = "id = CentOS-Stream-\(release)-"
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
                throw MkosiError(.invalidData, "composeinfo is missing compose ID field")
            }
            snapshot = String(line.dropFirst(prefix.count))
        case .opensuse:
            let text = try fetch(main, loaded.cwd, joinMirror(mirror ?? "https://download.opensuse.org", "history/latest"))
            snapshot = String(text.split(separator: "\n").first ?? "")
        default:
            throw MkosiError(.unsupported, "\(main.distribution.rawValue) does not support snapshots",
                             hint: "Snapshots exist for debian, ubuntu, arch, fedora, centos and opensuse")
        }
        Terminal.writeStdout(snapshot + "\n")
    }

    /// upstream's join_mirror: `mirror/` + `path` without its leading slash.
    static func joinMirror(_ mirror: String, _ path: String) -> String {
        (mirror.hasSuffix("/") ? mirror : mirror + "/") + path.drop(while: { $0 == "/" })
    }

    static func fetch(_ config: Config, _ cwd: String, _ url: String) throws -> String {
        var s = try RuntimeContext(config: config, cwd: cwd, verb: .latestSnapshot).toolsSandbox()
        let certificates = ProxyCertificates(config, cwd: cwd)
        for m in certificates.mounts { s.bind(m.source, m.target, readOnly: true) }
        var argv = ["curl", "--location", "--no-progress-meter", "--fail", "--retry", "2", "--connect-timeout", "20"]
        if let proxy = config[.proxyURL], !proxy.isEmpty { argv += ["--proxy", proxy] }
        if !config[.proxyExclude].isEmpty { argv += ["--noproxy", config[.proxyExclude].joined(separator: ",")] }
        argv += certificates.curlOptions
        argv.append(url)
        do {
            return try SandboxRunner.current.capture(argv, in: s).output
        } catch let error as MkosiError where !error.isInterruption {
            throw MkosiError(error.code, "Could not get the latest snapshot from \(url): \(error.message)",
                             hint: "Is the snapshot service reachable? Mirror= names another one", cause: MkosiError.cause(of: error))
        }
    }

    /// `Date: Tue, 01 Dec 2026 10:20:30 UTC` → `20261201T102030Z`.
    static func ubuntuSnapshot(_ date: String) -> String? {
        let parts = date.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count >= 5, let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]) else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3 else { return nil }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        return "\(year)\(two(month + 1))\(two(day))T\(time.joined())Z"
    }

    /// A UNIX time → `YYYY/MM/DD` (UTC), the Arch Linux Archive's snapshot form.
    static func archSnapshot(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : String(n) }
        return "\(tm.tm_year + 1900)/\(two(tm.tm_mon + 1))/\(two(tm.tm_mday))"
    }
}
