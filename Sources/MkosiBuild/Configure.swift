#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiInstaller

/// Small edits of the image after its contents are complete.
enum Configure {
    /// `IMAGE_ID=`, `IMAGE_VERSION=`, `DEFAULT_HOSTNAME=` (and `PORTABLE_PREFIXES=` from
    /// `Environment=`) in the image's os-release files that are regular files (`/usr/lib/os-release`,
    /// `/usr/lib/initrd-release`, `/etc/os-release`), as upstream writes them: double-quoted,
    /// existing lines replaced where they are, missing ones appended.
    static func osRelease(_ context: BuildContext) throws {
        let config = context.config
        guard !config[.overlay], !config.format.isExtension else { return }
        var set: [(String, String)] = []
        if let id = config[.imageID] { set.append(("IMAGE_ID", id)) }
        if let version = config[.imageVersion] { set.append(("IMAGE_VERSION", version)) }
        if let hostname = config[.hostname] { set.append(("DEFAULT_HOSTNAME", hostname)) }
        if let prefixes = config[.environment]["PORTABLE_PREFIXES"] { set.append(("PORTABLE_PREFIXES", prefixes)) }
        var last: String?
        for candidate in ["usr/lib/os-release", "usr/lib/initrd-release", "etc/os-release"] {
            let path = Path.join(context.root, candidate)
            guard let st = FS.lstat(path), st.isRegular, let text = try? FS.readText(path) else { continue }
            last = path
            guard !set.isEmpty else { continue }
            var written: Set<String> = []
            var lines: [String] = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            for (n, line) in lines.enumerated() {
                if let (key, value) = set.first(where: { line.hasPrefix($0.0 + "=") }) {
                    lines[n] = "\(key)=\"\(value)\""
                    written.insert(key)
                }
            }
            lines += set.filter { !written.contains($0.0) }.map { "\($0.0)=\"\($0.1)\"" }
            try FS.writeAtomically(path, lines.joined(separator: "\n") + "\n", mode: mode_t(st.permissions))
        }
        // SplitArtifacts=os-release: a copy next to the output, as the image has it now.
        if config[.splitArtifacts].contains(.osRelease), let last, let text = try? FS.readText(last) {
            try FS.writeAtomically(Path.join(context.staging, "\(config.output).osrelease"), text)
        }
    }

    /// `Ssh=`: with `always` (or `auto` when the image has sshd but no systemd-ssh-generator),
    /// an sshd socket on vsock port 22 and its service, enabled by a preset, as upstream installs
    /// them.
    static func ssh(_ context: BuildContext) throws {
        let config = context.config, root = context.root
        switch config[.ssh] {
        case .never, .runtime: return
        case .auto:
            let generator = FS.exists(Path.join(root, "usr/lib/systemd/system-generators/systemd-ssh-generator"))
            let sshd = ["usr/bin/sshd", "usr/sbin/sshd"].contains { FS.exists(Path.join(root, $0)) }
            if generator || !sshd { return }
        case .always: break
        }
        let units = Path.join(root, "usr/lib/systemd/system")
        try FS.makeDirectories(units)
        try FS.writeAtomically(Path.join(units, "ssh.socket"), """
            [Unit]
            Description=Mkosi SSH Server VSock Socket
            ConditionVirtualization=!container
            Wants=sshd-keygen.target

            [Socket]
            ListenStream=vsock::22
            Accept=yes

            [Install]
            WantedBy=sockets.target

            """)
        try FS.writeAtomically(Path.join(units, "ssh@.service"), """
            [Unit]
            Description=Mkosi SSH Server
            After=sshd-keygen.target

            [Service]
            # We disable PAM because of an openssh-server bug where it sets PAM_RHOST=UNKNOWN when -i is
            # used causing a very slow reverse DNS lookup by pam.
            ExecStart=sshd -i -o UsePAM=no
            StandardInput=socket
            RuntimeDirectoryPreserve=yes
            RuntimeDirectory=sshd
            # ssh always exits with 255 even on normal disconnect, so let's mark that as success so we
            # don't get noisy logs about SSH service failures.
            SuccessExitStatus=255

            """)
        let presets = Path.join(root, "usr/lib/systemd/system-preset")
        try FS.makeDirectories(presets)
        try FS.writeAtomically(Path.join(presets, "80-mkosi-ssh.preset"), "enable ssh.socket\n")
    }

    /// `/usr/lib/clock-epoch` (empty, 0644), which systemd uses as the earliest plausible time;
    /// not for extension images, which do not carry `/usr/lib` on their own.
    static func clockEpoch(_ context: BuildContext) throws {
        let config = context.config
        guard !config[.overlay], !config.format.isExtension else { return }
        let lib = Path.join(context.root, "usr/lib")
        guard FS.isDirectory(lib) else { return }
        let path = Path.join(lib, "clock-epoch")
        if FS.lstat(path) == nil { try FS.writeAtomically(path, "", mode: 0o644) }
    }

    /// `locale-gen` in the image when its `/etc/locale.gen` asks for a locale (a line that is
    /// neither blank nor a comment), as upstream does.
    static func localeGen(_ context: BuildContext) throws {
        let config = context.config
        guard !config[.overlay], !config.format.isExtension,
              let text = try? FS.readText(Path.join(context.root, "etc/locale.gen")),
              text.split(separator: "\n").contains(where: { let l = String($0).trimmed(); return !l.isEmpty && !l.hasPrefix("#") })
        else { return }
        Log.info("Generating locales")
        var s = context.imageSandbox()
        s.network = false
        try context.run(["locale-gen"], in: s)
    }

    /// After the bootstrap, as upstream: `/efi` and `/boot` (0500, only ever mounted over, where the
    /// ESP and XBOOTLDR go) and `/boot/loader/entries.srel` saying `type1`, which steers
    /// kernel-install to the boot loader specification layout.
    static func bootDirectories(_ context: BuildContext) throws {
        let root = context.root
        let created = ["efi", "boot"].filter { FS.lstat(Path.join(root, $0)) == nil }
        for dir in created { try FS.makeDirectories(Path.join(root, dir)) }
        let loader = Path.join(root, "boot/loader")
        if FS.lstat(loader) == nil {
            try FS.makeDirectories(loader, mode: 0o700)
            chmod(loader, 0o700)
        }
        try FS.writeAtomically(Path.join(loader, "entries.srel"), "type1\n", mode: 0o600)
        // Closed last, so that an unprivileged build could still create /boot/loader.
        for dir in created { chmod(Path.join(root, dir), 0o500) }
    }

    /// State that packages leave and that must be unique per machine (random seed, credential
    /// secret, machine info, dbus's machine ID) is removed after the installation.
    static func removeInstallationState(_ context: BuildContext) {
        for f in ["var/lib/systemd/random-seed", "var/lib/systemd/credential.secret", "etc/machine-info", "var/lib/dbus/machine-id"] {
            unlink(Path.join(context.root, f))
        }
    }

    /// `/init` starts systemd in every image but extensions and overlays (so any image can serve
    /// as an initrd), and with `MakeInitrd=` `/etc/initrd-release` marks the image as an initrd.
    static func initrd(_ context: BuildContext) throws {
        let root = context.root
        let makeInitrd = context.config[.makeInitrd]
        guard !context.config[.overlay], !context.config.format.isExtensionOrPortable else { return }
        if FS.lstat(Path.join(root, "init")) == nil, FS.lstat(Path.join(root, "usr/lib/systemd/systemd")) != nil {
            guard symlink("/usr/lib/systemd/systemd", Path.join(root, "init")) == 0 else { throw FS.systemError("Cannot create /init") }
        }
        let release = Path.join(root, "etc/initrd-release")
        if makeInitrd, FS.lstat(release) == nil, FS.isDirectory(Path.join(root, "etc")) {
            guard symlink("/etc/os-release", release) == 0 else { throw FS.systemError("Cannot create /etc/initrd-release") }
        }
    }

    /// `ManifestFormat=json`: `<Output>.manifest` with the image's configuration and installed
    /// packages (name, version, architecture, size), sorted by name; `ManifestFormat=changelog`:
    /// `<Output>.changelog`, upstream's report of the packages grouped by source package with
    /// each source package's changelog.
    static func manifest(_ context: BuildContext) throws {
        let config = context.config
        let formats = config[.manifestFormat]
        guard formats.contains(.json) || formats.contains(.changelog), let manager = context.packageManager,
              let installed = try manager.installedPackages() else { return }
        // With base trees, only the packages this build installed.
        let since = config[.baseTrees].isEmpty ? 0 : context.startTime
        let recorded = installed.filter { since == 0 || ($0.installTime ?? 0) >= since }
        if formats.contains(.changelog) { try changelogReport(context, manager, recorded) }
        guard formats.contains(.json) else { return }
        let packages: [JSON] = recorded.map { p in
            JSON.object([
                ("type", .string(p.type)), ("name", .string(p.name)), ("version", .string(p.version)),
                ("architecture", .string(p.architecture)), ("size", .int(p.size)),
            ])
        }
        var configPairs: [(String, JSON)] = [
            ("name", .string(config[.imageID] ?? "image")), ("distribution", .string(config.distribution.rawValue)),
            ("architecture", .string(config.architecture.rawValue)), ("output_format", .string(config.format.rawValue)),
        ]
        if let version = config[.imageVersion] { configPairs.append(("version", .string(version))) }
        configPairs.append(("release", .string(config.release)))
        let manifest = JSON.object([
            ("manifest_version", .int(1)), ("config", .object(configPairs)), ("packages", .array(packages)),
            ("extension", .object(ExtensionImage.releaseFields(context).map { ($0.key, .string($0.value)) })),
        ])
        try FS.writeAtomically(Path.join(context.staging, "\(config.output).manifest"),
                               manifest.serialized(indent: 2, sortKeys: false) + "\n")
    }

    /// `<Output>.changelog`, laid out as upstream's package report.
    static func changelogReport(_ context: BuildContext, _ manager: any PackageManager, _ packages: [InstalledPackage]) throws {
        Log.info("Saving report \(context.config.output).changelog")
        var order: [String] = []
        var groups: [String: [InstalledPackage]] = [:]
        for p in packages {
            let source = p.source ?? p.name
            if groups[source] == nil { order.append(source) }
            groups[source, default: []].append(p)
        }
        var text = "Packages: \(packages.count)\nSize:     \(packages.reduce(0) { $0 + $1.size })"
        for source in order {
            let members = groups[source] ?? []
            text += "\n" + String(repeating: "-", count: 80) + "\n"
            text += "SourcePackage: \(source)\nPackages:      \(members.map(\.name).joined(separator: " "))\n"
                + "Size:          \(members.reduce(0) { $0 + $1.size })\n"
            if let log = try manager.changelog(members[0]), !log.isEmpty { text += "\nChangelog:\n\(log)\n" }
        }
        try FS.writeAtomically(Path.join(context.staging, "\(context.config.output).changelog"), text)
    }
}
