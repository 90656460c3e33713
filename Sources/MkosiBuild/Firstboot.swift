#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// `Locale=`, `LocaleMessages=`, `Keymap=`, `Timezone=`, `Hostname=`, `RootPassword=` and
/// `RootShell=`, applied as upstream does: `systemd-firstboot --root --force` (from the tools tree
/// or the host) writes them into the image's configuration files, and the same values (but the
/// host name) go into `/usr/lib/credstore/` as credentials for a first boot that asks again. A
/// plain root password is hashed (SHA-512 crypt) first; `hashed:` passwords are used as they are.
/// Not for extension images and overlays, which have no such files of their own.
enum Firstboot {
    static func configure(_ context: BuildContext) throws {
        let config = context.config
        guard !config[.overlay], !config.format.isExtensionOrPortable, FS.isDirectory(Path.join(context.root, "etc")) else { return }
        var password = config[.rootPassword].map { $0.password }
        if let root = config[.rootPassword], !root.hashed { password = try hashPassword(root.password) }
        let settings: [(option: String, credential: String?, value: String?)] = [
            ("--locale", "firstboot.locale", config[.locale]),
            ("--locale-messages", "firstboot.locale-messages", config[.localeMessages]),
            ("--keymap", "firstboot.keymap", config[.keymap]),
            ("--timezone", "firstboot.timezone", config[.timezone]),
            ("--hostname", nil, config[.hostname]),
            ("--root-password-hashed", "passwd.hashed-password.root", password),
            ("--root-shell", "passwd.shell.root", config[.rootShell]),
        ]
        let given = settings.filter { $0.value != nil }
        guard !given.isEmpty else { return }
        let options = given.flatMap { [$0.option, $0.value!] }
        let s = context.toolsSandbox()
        try context.run(["systemd-firstboot", "--root=/buildroot", "--force"] + options, in: s,
                        display: ["systemd-firstboot", "--root=/buildroot", "--force"] + given.map { "\($0.option)=…" })
        // Initrds rarely have /usr alone, so credentials are of little use there.
        guard config.format != .cpio || !config[.makeInitrd] else { return }
        let credstore = Path.join(context.root, "usr/lib/credstore")
        try FS.makeDirectories(credstore)
        for item in given {
            guard let name = item.credential, let value = item.value else { continue }
            try FS.writeAtomically(Path.join(credstore, name), value, mode: name.contains("password") ? 0o600 : 0o644)
        }
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
