import Foundation
import MkosiConfig
import MkosiCore
import MkosiSandbox
import Testing
@testable import MkosiBuild

/// Keys and certificates from files, OpenSSL engines and providers, as the signing tools get
/// them (`SigningKey`, `SecureBoot.ukifySources`), and the source combinations refused first.
@Suite struct SigningKeyTests {
    typealias Project = InputCheckTests.Project
    static let base = InputCheckTests.base
    static let uri = "pkcs11:token=mkosi;object=signer;type=private?pin-value=1234"

    func config(_ text: String, _ files: [String: String] = [:]) throws -> (Config, Project) {
        let p = try Project(["mkosi.conf": Self.base + text].merging(files) { a, _ in a })
        let config = try #require(try p.load().images.last)
        return (config, p)
    }

    /// A token key passes as written with its source, beside a certificate file bound in; the
    /// sandbox gets the host's /run and /dev. No setting of the kind is reported unhonoured.
    @Test func providerKeyWithCertificateFile() throws {
        let (config, p) = try config("[Output]\nFormat=disk\n[Validation]\nVerityKey=\(Self.uri)\nVerityKeySource=provider:pkcs11\n"
                                     + "VerityCertificate=v.crt\n", ["v.crt": "cert"])
        let key = try #require(SigningKey.verity(config))
        var s = Sandbox(userNamespace: false)
        #expect(key.systemdArguments(&s) == ["--private-key=\(Self.uri)", "--certificate=/work/verity.crt",
                                             "--private-key-source=provider:pkcs11"])
        #expect(s.operations == [.bind(source: p.dir + "/v.crt", target: "/work/verity.crt", readOnly: true, optional: false),
                                 .bind(source: "/run", target: "/run", readOnly: false, optional: false),
                                 .bind(source: "/dev", target: "/dev", readOnly: false, optional: false)])
        #expect(SupportReport.findings(config, cwd: p.dir).map(\.message) == [])
    }

    /// Files stay files: bound read-only, no source arguments, no host /run.
    @Test func fileKeysAreBound() throws {
        let (config, p) = try config("[Validation]\nSecureBoot=yes\nSecureBootKey=sb.key\nSecureBootCertificate=sb.crt\n",
                                     ["sb.key": "k", "sb.crt": "c"])
        let key = try #require(SigningKey.secureBoot(config))
        var s = Sandbox(userNamespace: false)
        #expect(key.systemdArguments(&s) == ["--private-key=/work/secure-boot.key", "--certificate=/work/secure-boot.crt"])
        #expect(s.operations.count == 2 && !s.operations.contains(.bind(source: "/run", target: "/run", readOnly: false, optional: false)))
        #expect(SecureBoot.ukifySources(key) == [])
        _ = p
    }

    /// Both from the token; engines for the key; ukify names providers without `provider:`.
    @Test func certificateFromProviderAndEngineKeys() throws {
        let provider = try config("[Validation]\nSecureBootKey=\(Self.uri)\nSecureBootKeySource=provider:pkcs11\n"
                                  + "SecureBootCertificate=pkcs11:token=mkosi;object=signer;type=cert\n"
                                  + "SecureBootCertificateSource=provider:pkcs11\n").0
        let key = try #require(SigningKey.secureBoot(provider))
        var s = Sandbox(userNamespace: false)
        #expect(key.systemdArguments(&s, exists: { _ in false }) == [
            "--private-key=\(Self.uri)", "--certificate=pkcs11:token=mkosi;object=signer;type=cert",
            "--private-key-source=provider:pkcs11", "--certificate-source=provider:pkcs11"])
        #expect(SecureBoot.ukifySources(key) == ["--signing-provider", "pkcs11", "--certificate-provider", "pkcs11"])
        let engine = try config("[Validation]\nSecureBootKey=id_01\nSecureBootKeySource=engine:pkcs11\nSecureBootCertificate=c.crt\n").0
        let engineKey = try #require(SigningKey.secureBoot(engine))
        #expect(SecureBoot.ukifySources(engineKey) == ["--signing-engine", "pkcs11"])
        var e = Sandbox(userNamespace: false)
        #expect(engineKey.systemdArguments(&e, exists: { _ in false }).last == "--private-key-source=engine:pkcs11")
    }

    /// ukify takes one source for the UKI and its PCR signatures; sbsign takes no provider.
    @Test func contradictorySourcesAreRefused() throws {
        let (config, p) = try config("[Validation]\nSecureBoot=yes\nSecureBootKey=\(Self.uri)\nSecureBootKeySource=provider:pkcs11\n"
                                     + "SecureBootCertificate=sb.crt\nSignExpectedPcr=yes\nSignExpectedPcrKey=pcr.key\n"
                                     + "SignExpectedPcrCertificate=pcr.crt\n")
        let error = #expect(throws: MkosiError.self) { try InputCheck.refuseContradictions(config, cwd: p.dir) }
        #expect(error?.message == "SecureBootKeySource=provider:pkcs11 (mkosi.conf:7) and SignExpectedPcrKeySource=file differ", "\(error?.message ?? "")")
        let same = try self.config("[Validation]\nSecureBoot=yes\nSecureBootKey=\(Self.uri)\nSecureBootKeySource=provider:pkcs11\n"
                                   + "SecureBootCertificate=sb.crt\nSignExpectedPcr=yes\nSignExpectedPcrKey=\(Self.uri)\n"
                                   + "SignExpectedPcrKeySource=provider:pkcs11\nSignExpectedPcrCertificate=pcr.crt\n")
        #expect(throws: Never.self) { try InputCheck.refuseContradictions(same.0, cwd: same.1.dir) }
        let sbsign = try self.config("[Validation]\nSecureBoot=yes\nSecureBootSignTool=sbsign\nSecureBootKey=\(Self.uri)\n"
                                     + "SecureBootKeySource=provider:pkcs11\nSecureBootCertificate=sb.crt\n")
        let refused = #expect(throws: MkosiError.self) { try InputCheck.refuseContradictions(sbsign.0, cwd: sbsign.1.dir) }
        #expect(refused?.message.contains("needs systemd-sbsign: sbsign takes no OpenSSL provider") == true, "\(refused?.message ?? "")")
        // Format=esp signs its auto-enrolment keys with efitools, which read files only.
        let esp = try self.config("[Output]\nFormat=esp\n[Validation]\nSecureBoot=yes\nSecureBootKey=\(Self.uri)\n"
                                  + "SecureBootKeySource=provider:pkcs11\nSecureBootCertificate=sb.crt\n")
        let espRefused = #expect(throws: MkosiError.self) { try InputCheck.refuseContradictions(esp.0, cwd: esp.1.dir) }
        #expect(espRefused?.message.contains("SecureBootKeySource=provider:pkcs11 (mkosi.conf:") == true
                && espRefused?.message.contains("efitools, which read files only") == true, "\(espRefused?.message ?? "")")
        let noEnroll = try self.config("[Output]\nFormat=esp\n[Validation]\nSecureBoot=yes\nSecureBootAutoEnroll=no\n"
                                       + "SecureBootKey=\(Self.uri)\nSecureBootKeySource=provider:pkcs11\nSecureBootCertificate=sb.crt\n")
        #expect(throws: Never.self) { try InputCheck.refuseContradictions(noEnroll.0, cwd: noEnroll.1.dir) }
    }

    /// SplitArtifacts=pcrs: ukify prints the policy digests for the certificate unless the PCRs
    /// are signed into the UKI; it needs systemd-measure 258 and a certificate.
    @Test func pcrsSplitArtifactAsksUkifyForPolicyDigests() throws {
        #expect(SecureBoot.policyDigestArguments(splitArtifacts: [.uki, .pcrs], signedPCRs: false, certificate: "/c.pem")
                == ["--policy-digest", "--pcr-banks", "sha256", "--pcr-certificate", "/c.pem", "--json=short"])
        #expect(SecureBoot.policyDigestArguments(splitArtifacts: [.uki, .pcrs], signedPCRs: true, certificate: "/c.pem").isEmpty)
        #expect(SecureBoot.policyDigestArguments(splitArtifacts: [.uki], signedPCRs: false, certificate: "/c.pem").isEmpty)
        let (config, p) = try config("[Output]\nFormat=uki\nSplitArtifacts=uki,pcrs\n[Validation]\nSignExpectedPcrCertificate=pcr.crt\n")
        let measure = try #require(InputCheck.tools(config).first { $0.name == "systemd-measure" })
        guard case .tool(_, let minimum, _) = measure.need else { Issue.record("\(measure.need)"); return }
        #expect(minimum == 258 && measure.setting == "SplitArtifacts=")
        #expect(throws: Never.self) { try InputCheck.refuseContradictions(config, cwd: p.dir) }
        let (bare, q) = try self.config("[Output]\nFormat=uki\nSplitArtifacts=uki,pcrs\n")
        let error = #expect(throws: MkosiError.self) { try InputCheck.refuseContradictions(bare, cwd: q.dir) }
        #expect(error?.message.hasPrefix("SplitArtifacts=pcrs (mkosi.conf:") == true, "\(error?.message ?? "")")
    }
}
