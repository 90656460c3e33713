#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// `mkosi genkey`: a 2048-bit RSA key and a self-signed certificate, `mkosi.key` (mode 0600) and
/// `mkosi.crt`, in the configuration directory, valid for `--genkey-valid-days` (730) with the
/// common name `--genkey-common-name` ("mkosi of USER"), as upstream makes them with openssl.
/// Existing files are kept unless `-f` is given. The well-known files are then picked up by
/// the settings that read them (`SecureBootKey=`, `VerityKey=`, …).
enum GenkeyCommand {
    static func run(_ loaded: LoadedConfiguration) throws {
        let args = loaded.args
        guard let directory = ConfigLoader.configDirectory(for: loaded.cwd), !directory.isEmpty else {
            throw MkosiError.usage("genkey cannot be used with empty --directory")
        }
        guard let days = Int(args.genkeyValidDays), days > 0 else {
            throw MkosiError.usage("--genkey-valid-days must be a positive number of days (got '\(args.genkeyValidDays)')")
        }
        let key = Path.join(directory, "mkosi.key"), certificate = Path.join(directory, "mkosi.crt")
        for f in [key, certificate] where FS.lstat(f) != nil && args.force == 0 {
            throw MkosiError(.busy, "\(f) already exists", hint: "To generate new keys, first remove mkosi.key and mkosi.crt (or use -f)")
        }
        Log.info(Terminal.bold("Generating keys rsa:2048 for CN '\(args.genkeyCommonName)'."))
        Log.info("The keys will expire in \(days) days. Remember to roll them over to new ones before then.")
        // Written beside the final names first, so a failure leaves no half-made pair.
        let newKey = key + ".new", newCertificate = certificate + ".new"
        defer { unlink(newKey); unlink(newCertificate) }
        var env = Dictionary(Env.all(), uniquingKeysWith: { _, last in last })
        env["OPENSSL_CONF"] = "/dev/null"
        let old = umask(0o077)
        defer { umask(old) }
        try HostCommand.run(["openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-keyout", newKey, "-out", newCertificate,
                             "-days", String(days), "-subj", "/CN=\(args.genkeyCommonName)/", "-nodes"], environment: env)
        chmod(newKey, 0o600)
        chmod(newCertificate, 0o644)
        guard rename(newKey, key) == 0, rename(newCertificate, certificate) == 0 else {
            throw FS.systemError("Cannot move the new key and certificate into \(directory)")
        }
    }
}
