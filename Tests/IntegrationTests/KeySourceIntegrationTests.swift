import Foundation
import Testing
import TestSupport

/// Keys on a real PKCS#11 token: a SoftHSM token under the host's /run (which signing tools get
/// in their sandbox when a key comes from an engine or provider), reached through the tools
/// tree's pkcs11-provider. Part of the serialized `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// A SoftHSM token in a scratch directory under /run, holding an RSA key and its certificate
    /// (label `signer`, PIN 1234); the module is copied beside it, so the tools tree (which has
    /// no SoftHSM) can load it from /run as a user's token module would be.
    final class SoftToken {
        let dir = "/run/mkosi-integration-token-\(UUID().uuidString)"
        var module: String { dir + "/libsofthsm2.so" }
        var certificate: String { dir + "/signer.crt" }
        let key = "pkcs11:token=mkosi;object=signer;type=private?pin-value=1234"
        let certificateURI = "pkcs11:token=mkosi;object=signer;type=cert"

        init() throws {
            let fm = FileManager.default
            try fm.createDirectory(atPath: dir + "/tokens", withIntermediateDirectories: true)
            try "directories.tokendir = \(dir)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
                .write(toFile: dir + "/softhsm2.conf", atomically: true, encoding: .utf8)
            let env = ProcessInfo.processInfo.environment.merging(["SOFTHSM2_CONF": dir + "/softhsm2.conf"]) { _, b in b }
            let steps: [[String]] = [
                ["cp", "-L", "/usr/lib/softhsm/libsofthsm2.so", module],
                ["softhsm2-util", "--init-token", "--free", "--label", "mkosi", "--pin", "1234", "--so-pin", "123456"],
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/key.pem", "-out", certificate,
                 "-subj", "/CN=mkosi token/", "-days", "2"],
                ["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", dir + "/key.pem", "-out", dir + "/key8.pem"],
                ["softhsm2-util", "--import", dir + "/key8.pem", "--token", "mkosi", "--label", "signer", "--id", "01", "--pin", "1234"],
                ["openssl", "x509", "-in", certificate, "-outform", "DER", "-out", dir + "/signer.der"],
                ["pkcs11-tool", "--module", module, "--token-label", "mkosi", "--login", "--pin", "1234", "--write-object",
                 dir + "/signer.der", "--type", "cert", "--id", "01", "--label", "signer"],
            ]
            for argv in steps {
                let r = try Shell.run(argv, environment: env)
                guard r.status == 0 else { throw CocoaError(.featureUnsupported, userInfo: ["step": "\(argv): \(r.stderr)"]) }
            }
            // The key must be used from the token: its file goes.
            try fm.removeItem(atPath: dir + "/key.pem")
            try fm.removeItem(atPath: dir + "/key8.pem")
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        /// `Environment=` lines that point pkcs11-provider at the token.
        var environment: String { "Environment=SOFTHSM2_CONF=\(dir)/softhsm2.conf PKCS11_PROVIDER_MODULE=\(module)\n" }
    }

    /// `VerityKeySource=provider:pkcs11` with the key, then also the certificate, on the token:
    /// systemd-repart signs the root hash of a small erofs root (no packages) and the signature
    /// verifies against the token's certificate, and not against another.
    @Test func veritySignedWithAKeyOnAPKCS11Token() throws {
        let token = try SoftToken()
        let repart = "mkosi.repart/"
        for certificateFromToken in [false, true] {
            let certificate = certificateFromToken
                ? "VerityCertificate=\(token.certificateURI)\nVerityCertificateSource=provider:pkcs11\n"
                : "VerityCertificate=\(token.certificate)\n"
            let p = try Project([
                "mkosi.conf": "[Distribution]\nDistribution=custom\n[Output]\nFormat=disk\n" + withTools + token.environment
                    + "[Validation]\nVerity=signed\nVerityKey=\(token.key)\nVerityKeySource=provider:pkcs11\n" + certificate,
                "mkosi.extra/usr/lib/os-release": "ID=mkosi-token-test\n",
                repart + "10-root.conf": "[Partition]\nType=root\nFormat=erofs\nCopyFiles=/\nVerity=data\nVerityMatchKey=root\nMinimize=best\n",
                repart + "20-verity.conf": "[Partition]\nType=root-verity\nVerity=hash\nVerityMatchKey=root\nMinimize=best\n",
                repart + "30-signature.conf": "[Partition]\nType=root-verity-sig\nVerity=signature\nVerityMatchKey=root\n",
            ])
            let r = try Shell.run([mkosi, "-f", "build"], cwd: p.dir)
            #expect(r.status == 0, "\(r.stderr.suffix(3000))")
            #expect(try Self.veritySignatureVerifies(p.dir + "/image.raw", certificate: token.certificate), "certificate from token: \(certificateFromToken)")
            let other = p.dir + "/other"
            _ = try Shell.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", other + ".key", "-out", other + ".crt",
                               "-subj", "/CN=other/", "-days", "1"])
            #expect(try !Self.veritySignatureVerifies(p.dir + "/image.raw", certificate: other + ".crt"))
            #expect(p.leftovers().isEmpty)
        }
    }
}
