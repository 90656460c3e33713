#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore
import MkosiSandbox

/// `SecureBoot=`: EFI binaries (systemd-boot, UKIs, kernels, grub) signed with `SecureBootKey=`
/// and `SecureBootCertificate=` by `SecureBootSignTool=` (systemd-sbsign, or sbsign; `auto`
/// prefers systemd-sbsign, as upstream); `SecureBootAutoEnroll=` puts the signed key databases
/// (`PK`, `KEK`, `db`) on the ESP for systemd-boot to enrol; `SignExpectedPcr=` adds signed PCR 11
/// predictions to UKIs.
///
/// Keys and certificates are files bound read-only into the tools' sandbox, or come from an
/// OpenSSL engine or provider (`SecureBootKeySource=`, `SecureBootCertificateSource=`,
/// `SignExpectedPcrKeySource=`, ...; see `SigningKey`): systemd-sbsign, bootctl and ukify get the
/// sources, sbsign only an engine (it knows no providers).
enum SecureBoot {
    static let keyInSandbox = "/work/secure-boot.key", certificateInSandbox = "/work/secure-boot.crt"

    /// Whether EFI binaries are signed.
    static func enabled(_ config: Config) -> Bool {
        config[.secureBoot] && config[.secureBootKey] != nil && config[.secureBootCertificate] != nil
    }

    /// The signing program: `systemd-sbsign` or `sbsign`.
    static func tool(_ context: BuildContext) throws -> String {
        let choice = context.config[.secureBootSignTool]
        let systemd = systemdSbsign(context) != nil
        switch choice {
        case .systemdSbsign where !systemd:
            throw MkosiError.config("SecureBootSignTool=systemd-sbsign, but the tools have no systemd-sbsign",
                                    hint: "systemd-sbsign comes with systemd 257 (the default tools tree has it); or use SecureBootSignTool=sbsign")
        case .systemdSbsign: return "systemd-sbsign"
        case .auto where systemd: return "systemd-sbsign"
        default:
            guard context.findTool("sbsign") != nil else {
                throw MkosiError.config("SecureBoot= needs systemd-sbsign or sbsign, and the tools have neither",
                                        hint: "Install systemd (257 or newer) or sbsigntool in the tools tree, or use ToolsTree=default")
            }
            if let refusal = sbsignRefusal(context.config) {
                throw MkosiError.config(refusal, hint: "Use systemd-sbsign (systemd 257 or newer in the tools tree)")
            }
            return "sbsign"
        }
    }

    /// Where the tools have systemd-sbsign (on the search path or in /usr/lib/systemd).
    static func systemdSbsign(_ context: BuildContext) -> String? {
        context.findTool("systemd-sbsign")
            ?? (FS.isExecutable(context.toolsRoot + "/usr/lib/systemd/systemd-sbsign") ? "/usr/lib/systemd/systemd-sbsign" : nil)
    }

    /// Why sbsign cannot sign with these sources (it takes an engine, no provider), or nil.
    static func sbsignRefusal(_ config: Config) -> String? {
        if config[.secureBootKeySource].type == .provider {
            return "SecureBootKeySource=\(config[.secureBootKeySource].argument) needs systemd-sbsign: sbsign takes no OpenSSL provider"
        }
        if config[.secureBootCertificateSource].type != .file {
            return "SecureBootCertificateSource=\(config[.secureBootCertificateSource].argument) needs systemd-sbsign: sbsign reads certificates from files only"
        }
        return nil
    }

    /// The sandbox with the key and certificate bound in (and what a token needs).
    static func sandbox(_ context: BuildContext, _ base: Sandbox) -> Sandbox {
        var s = base
        _ = SigningKey.secureBoot(context.config)?.prepare(&s)
        return s
    }

    /// Signs the PE file `input` into `output` (host paths; they may be the same).
    static func sign(_ context: BuildContext, input: String, output: String) throws {
        let tool = try tool(context)
        guard let signer = SigningKey.secureBoot(context.config) else { return }
        var s = context.bareToolsSandbox()
        s.bind(input, "/work/unsigned.efi", readOnly: true)
        s.bind(Path.dirname(output), "/work/signed")
        let target = "/work/signed/\(Path.basename(output)).mkosi-signing"
        let argv: [String]
        if tool == "systemd-sbsign" {
            argv = [systemdSbsign(context) ?? "systemd-sbsign", "sign"] + signer.systemdArguments(&s) + ["--output=\(target)", "/work/unsigned.efi"]
        } else {
            let (key, certificate) = signer.prepare(&s)
            let engine = signer.keySource.type == .engine ? ["--engine", signer.keySource.source] : []
            argv = ["sbsign"] + engine + ["--key", key, "--cert", certificate, "--output", target, "/work/unsigned.efi"]
        }
        let staged = output + ".mkosi-signing"
        defer { unlink(staged) }
        try context.run(argv, in: s)
        guard rename(staged, output) == 0 else { throw FS.systemError("Cannot move the signed \(output) into place") }
    }

    /// systemd-boot's binaries in `directory` (the image's `usr/lib/systemd/boot/efi`) signed as
    /// `<name>.efi.signed`, which `bootctl install` prefers.
    static func signBootLoader(_ context: BuildContext, directory: String) throws {
        for name in try FS.listDirectory(directory).sorted() where name.hasSuffix(".efi") || name.hasSuffix(".EFI") {
            Log.info("Signing \(name)")
            try sign(context, input: Path.join(directory, name), output: Path.join(directory, name + ".signed"))
        }
    }

    /// How `SecureBootAutoEnroll=` keys reach the ESP, as upstream: `bootctl install` writes
    /// them from systemd 257 on; with an older bootctl (or none: `Format=esp` installs
    /// systemd-boot without it) mkosi writes them itself with efitools (`sbsiglist`, `sbvarsign`).
    enum AutoEnroll: Equatable { case none, bootctl, efitools }

    /// The way for `config` with a bootctl of systemd `bootctlVersion` (nil: none is used).
    static func autoEnroll(_ config: Config, bootctlVersion: Int?) -> AutoEnroll {
        guard enabled(config), config[.secureBootAutoEnroll], config[.bootloader].isSystemdBoot else { return .none }
        return (bootctlVersion ?? 0) >= 257 ? .bootctl : .efitools
    }

    /// bootctl's auto-enrolment arguments when bootctl writes the keys (`autoEnroll`); `sandbox`
    /// gets what the key and certificate need (`SigningKey`).
    static func bootctlArguments(_ context: BuildContext, bootctlVersion: Int, sandbox s: inout Sandbox) -> [String] {
        guard autoEnroll(context.config, bootctlVersion: bootctlVersion) == .bootctl,
              let signer = SigningKey.secureBoot(context.config) else { return [] }
        return ["--secure-boot-auto-enroll=yes"] + signer.systemdArguments(&s)
    }

    /// The commands that write `loader/keys/auto/{PK,KEK,db}.auth` into the directory bound at
    /// `/work/keys`, with the workspace at `/work/ws`: the certificate as DER, then as an EFI
    /// signature list, then signed as each database's update (one key for all three, as
    /// upstream).
    static func autoEnrollCommands() -> [[String]] {
        var commands = [["openssl", "x509", "-outform", "DER", "-in", certificateInSandbox, "-out", "/work/ws/secure-boot.der"],
                        ["sbsiglist", "--owner", "00000000-0000-0000-0000-000000000000", "--type", "x509",
                         "--output", "/work/ws/secure-boot.esl", "/work/ws/secure-boot.der"]]
        for db in ["PK", "KEK", "db"] {
            commands.append(["sbvarsign", "--attr", "NON_VOLATILE,BOOTSERVICE_ACCESS,RUNTIME_ACCESS,TIME_BASED_AUTHENTICATED_WRITE_ACCESS",
                             "--key", keyInSandbox, "--cert", certificateInSandbox, "--output", "/work/keys/\(db).auth",
                             db, "/work/ws/secure-boot.esl"])
        }
        return commands
    }

    /// Writes the auto-enrolment keys into `esp` (a host path) with efitools.
    static func writeAutoEnrollKeys(_ context: BuildContext, esp: String) throws {
        let keys = Path.join(esp, "loader/keys/auto")
        try FS.makeDirectories(keys, mode: 0o700)
        var s = sandbox(context, context.bareToolsSandbox())
        s.bind(context.workspace, "/work/ws")
        s.bind(keys, "/work/keys")
        Log.info("Setting up secure boot auto-enrollment")
        for argv in autoEnrollCommands() { try context.run(argv, in: s) }
        for db in ["PK", "KEK", "db"] { chmod(Path.join(keys, "\(db).auth"), 0o600) }
    }

    /// The arguments that make ukify sign what it builds, and for a UKI (`kernel`) the kernel in
    /// it and with `SignExpectedPcr=` the PCR 11 predictions (SHA-256 bank only, as upstream).
    static func ukifyArguments(_ context: BuildContext, sandbox s: inout Sandbox, kernel: Bool = true) throws -> [String] {
        let config = context.config
        var argv: [String] = []
        if enabled(config), let signer = SigningKey.secureBoot(config) {
            let (key, certificate) = signer.prepare(&s)
            argv += ["--signtool", try tool(context)] + ukifySources(signer)
                + ["--secureboot-private-key", key, "--secureboot-certificate", certificate] + (kernel ? ["--sign-kernel"] : [])
        }
        if kernel, wantSignedPCRs(context), let signer = SigningKey.expectedPCR(config) {
            let (key, certificate) = signer.prepare(&s)
            argv += ["--pcr-banks", "sha256", "--pcr-private-key", key]
            if signer.keySource.type != .file {
                // ukify signs with one source for both (the settings are checked to agree) and,
                // the public key being on the token, wants the certificate to embed.
                if !enabled(config) { argv += ukifySources(signer) }
                argv += [ukifyVersion(context) >= 258 ? "--pcr-certificate" : "--pcr-public-key", certificate]
            }
        }
        return argv
    }

    /// `SplitArtifacts=pcrs` when the PCRs are not signed into the UKI (`signedPCRs` false): the
    /// arguments that make ukify print the TPM2 PCR 11 policy digests of the UKI (SHA-256 bank)
    /// for `certificate` (a path in ukify's sandbox) as JSON on its standard output, as upstream;
    /// otherwise none.
    static func policyDigestArguments(splitArtifacts: [ArtifactOutput], signedPCRs: Bool, certificate: String?) -> [String] {
        guard splitArtifacts.contains(.pcrs), !signedPCRs, let certificate else { return [] }
        return ["--policy-digest", "--pcr-banks", "sha256", "--pcr-certificate", certificate, "--json=short"]
    }

    /// `policyDigestArguments` for this build, with `SignExpectedPcrCertificate=` bound into `s`.
    static func policyDigestArguments(_ context: BuildContext, sandbox s: inout Sandbox) -> [String] {
        let config = context.config
        let certificate = config[.signExpectedPCRCertificate]
        if let certificate { s.bind(certificate, "/work/pcr-certificate.pem", readOnly: true) }
        return policyDigestArguments(splitArtifacts: config[.splitArtifacts], signedPCRs: wantSignedPCRs(context),
                                     certificate: certificate.map { _ in "/work/pcr-certificate.pem" })
    }

    /// `SignExpectedPcr=`: `yes`, or `auto` when the tools have systemd-measure and a key and
    /// certificate are configured.
    static func wantSignedPCRs(_ context: BuildContext) -> Bool {
        let config = context.config
        switch config[.signExpectedPCR] {
        case .enabled: return true
        case .disabled: return false
        case .auto:
            return config[.signExpectedPCRKey] != nil && config[.signExpectedPCRCertificate] != nil
                && (context.findTool("systemd-measure") != nil || FS.isExecutable(context.toolsRoot + "/usr/lib/systemd/systemd-measure"))
        }
    }

    /// ukify's options for `signer`'s sources (it names providers without `provider:`).
    static func ukifySources(_ signer: SigningKey) -> [String] {
        var argv: [String] = []
        switch signer.keySource.type {
        case .engine: argv += ["--signing-engine", signer.keySource.source]
        case .provider: argv += ["--signing-provider", signer.keySource.source]
        case .file: break
        }
        if signer.certificateSource.type == .provider { argv += ["--certificate-provider", signer.certificateSource.source] }
        return argv
    }

    /// The systemd version of the tools' ukify (0 when it cannot be told).
    static func ukifyVersion(_ context: BuildContext) -> Int {
        let ukify = context.findTool("ukify") ?? "/usr/lib/systemd/ukify"
        return Tools.systemdVersion(ukify, context) ?? 0
    }
}
