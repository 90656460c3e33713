#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// The systemd credentials a booted image gets from `vm`, `shell` and `boot`, as upstream:
/// `firstboot.locale=C.UTF-8`, then `Credentials=` (values, files, and the output of executable
/// files), `firstboot.timezone=UTC` unless set, and `ssh.authorized_keys.root` made from the
/// public key of `SshCertificate=` unless set (systemd-tmpfiles installs it as root's
/// authorized keys). `Ssh=always` or `runtime` without a certificate is an error.
public enum RuntimeCredentials {
    public static func collect(_ config: Config, runner: SandboxRunner) throws -> [(name: String, value: [UInt8])] {
        var result: [(name: String, value: [UInt8])] = [("firstboot.locale", Array("C.UTF-8".utf8))]
        func set(_ name: String, _ value: [UInt8]) {
            result.removeAll { $0.name == name }
            result.append((name, value))
        }
        for c in config[.credentials] {
            if let value = c.value {
                set(c.name, Array(value.utf8))
            } else if let path = c.path {
                if FS.isExecutable(path) && !FS.isDirectory(path) {
                    set(c.name, Array(try HostCommand.capture([path]).output.utf8))
                } else {
                    set(c.name, try FS.readBytes(path))
                }
            }
        }
        let names = Set(result.map(\.name))
        if !names.contains("firstboot.timezone") { set("firstboot.timezone", Array("UTC".utf8)) }
        if !names.contains("ssh.authorized_keys.root") {
            if let certificate = config[.sshCertificate] {
                set("ssh.authorized_keys.root", Array(try sshPublicKey(certificate, toolsTree: config.toolsTree, runner: runner).utf8))
            } else if config[.ssh] == .always || config[.ssh] == .runtime {
                throw MkosiError.config("Ssh=\(config[.ssh].rawValue) is enabled but no SSH certificate was found (SshCertificate=)",
                                        hint: "Run 'mkosi genkey' to automatically create one")
            }
        }
        return result
    }

    /// The OpenSSH public key of an X.509 certificate (`openssl x509 -pubkey | ssh-keygen -i`).
    static func sshPublicKey(_ certificate: String, toolsTree: String?, runner: SandboxRunner) throws -> String {
        var s = Sandbox.withTools(tree: toolsTree, userNamespace: Privileges.sandboxNeedsUserNamespace)
        s.bind(certificate, "/work/ssh.crt", readOnly: true)
        s.environment.append(("OPENSSL_CONF", "/dev/null"))
        let script = "openssl x509 -in /work/ssh.crt -pubkey -noout > /tmp/pubkey && ssh-keygen -f /tmp/pubkey -i -m PKCS8"
        let key = try runner.capture(["sh", "-c", script], in: s,
                                          display: ["openssl", "x509", "-in", certificate, "-pubkey", "-noout", "|",
                                                    "ssh-keygen", "-f", "/dev/stdin", "-i", "-m", "PKCS8"]).output
        return key.hasSuffix("\n") ? key : key + "\n"
    }
}
