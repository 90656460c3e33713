import MkosiConfig
import MkosiCore
import MkosiSandbox

/// One signer's private key and certificate as the signing tools take them: `SecureBootKey=`,
/// `VerityKey=` or `SignExpectedPcrKey=` with their certificates and `*Source=` settings.
///
/// A key or certificate that is a file on the host is bound read-only into the sandbox at
/// `/work/<name>.key` and `/work/<name>.crt`; anything else (a `pkcs11:` URI, an engine's key
/// id) is passed on as written, and the source goes with it (`--private-key-source=engine:NAME`
/// or `provider:NAME`, `--certificate-source=provider:NAME`). A key or certificate from an
/// engine or provider gets the host's `/run` and `/dev` in the sandbox, as upstream gives them:
/// smart card daemons (pcscd), `p11-kit server` sockets and token devices live there.
struct SigningKey: Equatable {
    var name: String
    var key: String
    var keySource: KeySource
    var certificate: String
    var certificateSource: KeySource

    /// `SecureBootKey=` and `SecureBootCertificate=`, when both are set.
    static func secureBoot(_ config: Config) -> SigningKey? {
        make("secure-boot", config[.secureBootKey], config[.secureBootKeySource], config[.secureBootCertificate],
             config[.secureBootCertificateSource])
    }

    /// `VerityKey=` and `VerityCertificate=`, when both are set.
    static func verity(_ config: Config) -> SigningKey? {
        make("verity", config[.verityKey], config[.verityKeySource], config[.verityCertificate], config[.verityCertificateSource])
    }

    /// `SignExpectedPcrKey=` and `SignExpectedPcrCertificate=`, when both are set.
    static func expectedPCR(_ config: Config) -> SigningKey? {
        make("pcr", config[.signExpectedPCRKey], config[.signExpectedPCRKeySource], config[.signExpectedPCRCertificate],
             config[.signExpectedPCRCertificateSource])
    }

    private static func make(_ name: String, _ key: String?, _ keySource: KeySource, _ certificate: String?,
                             _ certificateSource: KeySource) -> SigningKey? {
        guard let key, let certificate else { return nil }
        return SigningKey(name: name, key: key, keySource: keySource, certificate: certificate, certificateSource: certificateSource)
    }

    /// Whether the key or the certificate comes from an engine or provider.
    var usesToken: Bool { keySource.type != .file || certificateSource.type != .file }

    /// The key and certificate as the tools get them (sandbox paths for host files, else as
    /// written), after binding what they need into `sandbox`. `exists` tells a host file.
    func prepare(_ sandbox: inout Sandbox, exists: (String) -> Bool = FS.exists) -> (key: String, certificate: String) {
        var result = (key: key, certificate: certificate)
        if exists(key) {
            result.key = "/work/\(name).key"
            sandbox.bind(key, result.key, readOnly: true)
        }
        if exists(certificate) {
            result.certificate = "/work/\(name).crt"
            sandbox.bind(certificate, result.certificate, readOnly: true)
        }
        if usesToken {
            sandbox.bind("/run", "/run")
            sandbox.bind("/dev", "/dev")
        }
        return result
    }

    /// The arguments of systemd's signing tools (systemd-repart, systemd-sbsign, bootctl,
    /// systemd-measure): `--private-key=`, `--certificate=` and the sources when not files.
    func systemdArguments(_ sandbox: inout Sandbox, exists: (String) -> Bool = FS.exists) -> [String] {
        let (key, certificate) = prepare(&sandbox, exists: exists)
        var argv = ["--private-key=\(key)", "--certificate=\(certificate)"]
        if keySource.type != .file { argv.append("--private-key-source=\(keySource.argument)") }
        if certificateSource.type != .file { argv.append("--certificate-source=\(certificateSource.argument)") }
        return argv
    }
}

extension KeySource {
    /// As the tools take it: `file`, `engine:NAME`, `provider:NAME`.
    var argument: String { source.isEmpty ? type.rawValue : "\(type.rawValue):\(source)" }
}
