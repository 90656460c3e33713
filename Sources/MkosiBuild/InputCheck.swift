#if canImport(Glibc)
import Glibc
#endif
import MkosiConfig
import MkosiCore

/// What upstream checks right before an image is built (`check_inputs`) about combinations of
/// settings and the keys they name, done for every image before the first one is built, so a
/// mistake in the last image stops the build before any work. Each message names the settings
/// and where they were set. (Key files readable by others are refused when the configuration
/// is read, as upstream does.)
public enum InputCheck {
    public static func run(_ config: Config, cwd: String) throws {
        func at<T>(_ key: SettingKey<T>) -> String {
            let origins = config.origins(of: key).filter { $0 != .defaultValue && $0 != .mainImage }
            return origins.isEmpty ? "" : " (\(Origin.describe(origins, cwd: cwd)))"
        }
        let genkey = "Run mkosi genkey to generate a key/certificate pair"
        if config[.overlay] && config[.baseTrees].isEmpty {
            throw MkosiError.config("Overlay=yes\(at(.overlay)) can only be used with BaseTrees=",
                                    hint: "Name the image to extend with BaseTrees=, e.g. BaseTrees=%O/base")
        }
        if config.format == .portable && config[.overlay] {
            throw MkosiError.config("Overlay=yes\(at(.overlay)) cannot be used with Format=portable\(at(.outputFormat))",
                                    hint: "Portable service images are always full images and cannot be overlay images; "
                                        + "see https://systemd.io/PORTABLE_SERVICES/#extension-images for extending them")
        }
        if config[.verity] == .signed {
            if config[.verityKey] == nil {
                throw MkosiError.config("Verity=signed\(at(.verity)) is enabled but no verity key is configured (VerityKey=)", hint: genkey)
            }
            if config[.verityCertificate] == nil {
                throw MkosiError.config("Verity=signed\(at(.verity)) is enabled but no verity certificate is configured (VerityCertificate=)",
                                        hint: genkey)
            }
        }
        for (enabled, what, key, certificate) in [
            (config[.secureBoot], "SecureBoot=yes\(at(.secureBoot))", config[.secureBootKey], config[.secureBootCertificate]),
            (config[.signExpectedPCR] == .enabled, "SignExpectedPcr=yes\(at(.signExpectedPCR))", config[.signExpectedPCRKey],
             config[.signExpectedPCRCertificate]),
        ] where enabled {
            guard key != nil else { throw MkosiError.config("\(what) is enabled but no private key is configured", hint: genkey) }
            guard certificate != nil else { throw MkosiError.config("\(what) is enabled but no certificate is configured", hint: genkey) }
        }
        if config[.secureBoot] {
            if let key = config[.secureBootKey] { try checkReadable(key, setting: "SecureBootKey=\(at(.secureBootKey))") }
            if let certificate = config[.secureBootCertificate] {
                try checkReadable(certificate, setting: "SecureBootCertificate=\(at(.secureBootCertificate))")
            }
        }
        if config[.signExpectedPCR] != .disabled, let key = config[.signExpectedPCRKey], config[.signExpectedPCRCertificate] != nil {
            try checkReadable(key, setting: "SignExpectedPcrKey=\(at(.signExpectedPCRKey))")
        }
        let verityUsed = config.format.isPartitionedImage && [.auto, .signed].contains(config[.verity])
        if verityUsed {
            if let key = config[.verityKey], config[.verityKeySource].type == .file { try checkReadable(key, setting: "VerityKey=\(at(.verityKey))") }
            if let certificate = config[.verityCertificate], config[.verityCertificateSource].type == .file {
                try checkReadable(certificate, setting: "VerityCertificate=\(at(.verityCertificate))")
            }
        }
    }

    static func checkReadable(_ path: String, setting: String) throws {
        guard FS.lstat(path) != nil else {
            throw MkosiError.config("\(path), named by \(setting), does not exist", hint: "Run mkosi genkey to generate a key/certificate pair")
        }
        guard access(path, R_OK) == 0, FS.isFile(path) else {
            throw MkosiError.config("\(path), named by \(setting), is not a readable file")
        }
    }
}
