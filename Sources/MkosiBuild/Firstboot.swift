#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// `Locale=`, `LocaleMessages=`, `Keymap=`, `Timezone=`, `Hostname=`, `RootPassword=` and
/// `RootShell=`, written into the image's configuration files as systemd-firstboot would:
/// `/etc/locale.conf`, `/etc/vconsole.conf`, `/etc/localtime`, `/etc/hostname`, the root entries of
/// `/etc/shadow` and `/etc/passwd`. A plain root password is hashed (SHA-512 crypt) first;
/// `hashed:` passwords are used as they are.
enum Firstboot {
    static func configure(_ context: BuildContext) throws {
        let config = context.config
        let etc = Path.join(context.root, "etc")
        guard FS.isDirectory(etc) else { return }

        var locale: [String] = []
        if let l = config[.locale] { locale.append("LANG=\(l)") }
        if let l = config[.localeMessages] { locale.append("LC_MESSAGES=\(l)") }
        if !locale.isEmpty { try write(Path.join(etc, "locale.conf"), locale.joined(separator: "\n") + "\n") }
        if let keymap = config[.keymap] { try write(Path.join(etc, "vconsole.conf"), "KEYMAP=\(keymap)\n") }
        if let hostname = config[.hostname] { try write(Path.join(etc, "hostname"), hostname + "\n") }
        if let timezone = config[.timezone] {
            let link = Path.join(etc, "localtime")
            unlink(link)
            guard symlink("../usr/share/zoneinfo/\(timezone)", link) == 0 else { throw FS.systemError("Cannot create \(link)") }
        }
        if let root = config[.rootPassword] {
            let hash = root.hashed ? root.password : try hashPassword(root.password)
            let days = Int(time(nil) / 86400)
            try replaceRootEntry(Path.join(etc, "shadow"), "root:\(hash):\(days)::::::", mode: 0o640)
        }
        if let shell = config[.rootShell] {
            let passwd = Path.join(etc, "passwd")
            let lines = ((try? FS.readText(passwd)) ?? "").split(separator: "\n").map(String.init)
            let root = lines.first { $0.hasPrefix("root:") } ?? "root:x:0:0:root:/root:/bin/sh"
            var fields = root.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            while fields.count < 7 { fields.append("") }
            fields[6] = shell
            try replaceRootEntry(passwd, fields.joined(separator: ":"), mode: 0o644)
        }
    }

    /// Replaces (or adds, first) the `root:` line of a passwd-style file.
    static func replaceRootEntry(_ path: String, _ entry: String, mode: mode_t) throws {
        let lines = ((try? FS.readText(path)) ?? "").split(separator: "\n").map(String.init).filter { !$0.hasPrefix("root:") }
        let mode = FS.stat(path).map { mode_t($0.permissions) } ?? mode
        try FS.writeAtomically(path, ([entry] + lines).joined(separator: "\n") + "\n", mode: mode)
        chmod(path, mode)
    }

    static func write(_ path: String, _ text: String) throws {
        unlink(path)
        try FS.writeAtomically(path, text)
    }

    /// SHA-512 crypt of `password`, passed to openssl through the environment (not argv).
    static func hashPassword(_ password: String) throws -> String {
        var env: [String: String] = ["PATH": "/usr/bin:/bin"]
        env["MKOSI_PASSWORD"] = password
        let result = try HostCommand.capture(["/bin/sh", "-c", "printf '%s' \"$MKOSI_PASSWORD\" | openssl passwd -6 -stdin"],
                                             environment: env)
        return result.output.trimmed()
    }

    /// `Autologin=`: root is logged in automatically on the console, tty1 and the virtio console
    /// (getty drop-ins under /usr/lib/systemd/system).
    static func autologin(_ context: BuildContext) throws {
        guard context.config[.autologin] else { return }
        let units = Path.join(context.root, "usr/lib/systemd/system")
        guard FS.isDirectory(units) else { return }
        let gettys: [(String, String)] = [
            ("console-getty.service", "--noclear --keep-baud console 115200,38400,9600"),
            ("getty@tty1.service", "--noclear -"),
            ("serial-getty@hvc0.service", "--keep-baud 115200,57600,38400,9600 -"),
        ]
        for (unit, args) in gettys {
            let dir = Path.join(units, "\(unit).d")
            try FS.makeDirectories(dir)
            try FS.writeAtomically(Path.join(dir, "autologin.conf"), """
                # Written by mkosi for Autologin=yes.
                [Service]
                ExecStart=
                ExecStart=-agetty -o '-f -p -- \\\\u' --autologin root \(args) $TERM

                """)
        }
    }
}
