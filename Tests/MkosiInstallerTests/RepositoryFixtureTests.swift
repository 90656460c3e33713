import Foundation
import MkosiConfig
import MkosiCore
import MkosiInstaller
import Testing

/// The repository configuration we write equals what upstream writes for the same settings:
/// every case of Tests/Fixtures/repositories (recorded from upstream's development head by
/// scripts/record-repository-fixtures), with the keys of the trixie tools tree it was recorded
/// with (tools-tree-keys.txt lists its key files and links) or of none.
@Suite struct RepositoryFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/repositories").path

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter {
            FileManager.default.fileExists(atPath: "\(root)/\($0)/args")
        }.sorted()
    }

    /// A directory with the tools tree's key files (empty) and links, made once.
    static let keysRoot: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-fixture-keys-\(getpid())").path
        let list = (try? String(contentsOfFile: "\(root)/tools-tree-keys.txt", encoding: .utf8)) ?? ""
        for line in list.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            let path = "\(dir)/\(f[1])"
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if f[0] == "f" { _ = FileManager.default.createFile(atPath: path, contents: Data()) }
            else { try? FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: f[2]) }
        }
        return dir
    }()

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test(arguments: cases) func matchesUpstream(_ name: String) throws {
        let dir = "\(Self.root)/\(name)"
        let lines = try #require(read("\(dir)/args")).split(separator: "\n").map(String.init)
        let tools = lines.last == "tools-tree=yes"
        let args = lines.filter { !$0.hasPrefix("tools-tree=") }
        let cwd = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-fixture-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        let config = try #require(try ConfigLoader.load(args, cwd: cwd, resources: BuiltinResources()).main)
        let description = DistributionDescription.of(config.distribution)
        let keys = tools ? RpmKeys(fetch: config[.repositoryKeyFetch], tools: Self.keysRoot, sandboxTree: nil)
            : RpmKeys(fetch: config[.repositoryKeyFetch]) { _ in nil }
        let files = "\(dir)/files/etc"
        switch config.distribution {
        case .opensuse:
            let repos = try description.rpmRepositories(config, keys: keys, zypper: true)
            #expect(Zypper.repoFile(repos) == read("\(files)/zypp/repos.d/mkosi.repo"))
        case .arch:
            let text = Pacman.configuration(try description.pacmanRepositories(config), keyCheck: config[.repositoryKeyCheck],
                                            architecture: try description.architectureName(config.architecture),
                                            withDocs: config[.withDocs], includes: false)
            #expect(text == read("\(files)/pacman.conf"))
        case .postmarketos:
            #expect(Apk.repositoriesFile(try description.apkRepositories(config)) == read("\(files)/apk/repositories"))
        case .debian, .ubuntu, .kali:
            // Ours leaves out deb-src and the debug suites (see Apt.sources()).
            let theirs = try #require(read("\(files)/apt/sources.list.d/mkosi.sources")).components(separatedBy: "\n\n\n")
                .filter { !$0.isEmpty && !$0.contains("-debug\n") }
                .map { $0.replacingOccurrences(of: "Types: deb deb-src", with: "Types: deb") + "\n\n\n" }.joined()
            let ours = Apt.buildSources(description.aptRepositories(config))
            #expect(ours == theirs)
        default:
            let repos = try description.rpmRepositories(config, keys: keys)
            let ours = Dnf.repoFile(repos, repoGPGCheck: false, metadataExpire: Dnf.metadataExpire(config))
            #expect(ours == read("\(files)/yum.repos.d/mkosi.repo"))
        }
        if description.packageManager == Dnf.self || description.packageManager == Zypper.self {
            #expect(read("\(files)/rpm/macros.dbpath") == "%_dbpath \(description.rpmDatabase(config))")
        }
    }
}
