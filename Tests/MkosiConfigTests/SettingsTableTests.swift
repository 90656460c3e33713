import Foundation
@testable import MkosiConfig
import MkosiCore
import Testing

/// Self-checks of the settings table: every setting has a typed key, a support status and
/// (for choice settings) values that come from its enum and nowhere else.
@Suite struct SettingsTableTests {
    @Test func everyDestinationHasExactlyOneTypedKeyThatDecodesItsDefault() throws {
        let keys = SettingKeys.allDestinations
        #expect(Set(keys.map(\.dest)).count == keys.count, "a destination has two keys")
        #expect(Set(keys.map(\.key)).count == keys.count, "two keys share a name")
        #expect(Set(keys.map(\.dest)) == Set(Settings.dests), "keys and table destinations differ")
        // Static defaults, and the final values of an empty project (computed defaults too).
        let final = try Project().main()
        for k in keys {
            if Settings.setting(k.dest).factory == nil {
                let value = Settings.staticDefault(k.dest)
                #expect(k.decodes(value), "\(k.key) does not decode the default of \(k.dest): \(value)")
            }
            #expect(k.decodes(final[k.dest]), "\(k.key) does not decode the final value \(final[k.dest])")
        }
    }

    @Test func typedKeysReadFinalValues() throws {
        let p = try Project(["mkosi.conf": "[Output]\nFormat=tar\nSplitArtifacts=tar,os-release\n[Build]\nBuildScripts=\n[Runtime]\nRAM=3G\nFirmware=linux\n"])
        let c = try p.main()
        #expect(c[.outputFormat] == .tar && c.format == .tar)
        #expect(c[.splitArtifacts] == [.tar, .osRelease])
        #expect(c[.ram] == 3 << 30)
        #expect(c[.firmware].isLinux)
        #expect(c[.buildScripts].isEmpty)
        #expect(c[.mirror] == nil)
        #expect(c[.compressOutput] == .zstd, "the computed default, not a restated one")
        #expect(c[.cacheOnly] == .auto && c[.withDocs] && !c[.withNetwork])
    }

    @Test func everySettingStatesItsSupport() {
        var counts: [String: Int] = [:]
        for s in Settings.all {
            switch s.support.status {
            case .honoured: counts["honoured", default: 0] += 1
            case .configuration: counts["configuration", default: 0] += 1
            case .notYet(.refuse): counts["refused", default: 0] += 1
            case .notYet(.warn): counts["warned", default: 0] += 1
            case .values: counts["some values", default: 0] += 1
            }
        }
        #expect(counts.values.reduce(0, +) == Settings.all.count)
        #expect(Settings.all.count == 188)
    }

    @Test func choicesComeFromTheirEnums() {
        for s in Settings.all {
            var parserEnum: ConfigEnum?
            switch s.parser {
            case .enumeration(let e), .enumOrBoolean(let e, _, _): parserEnum = e
            case .list(let o): if case .enumeration(let e) = o.item { parserEnum = e }
            default: break
            }
            if let choices = s.choices {
                let e = s.choiceEnum
                #expect(e != nil && !e!.typeName.isEmpty, "\(s.name): choices without an enum")
                #expect(choices.filter { !$0.isEmpty } == e?.values, "\(s.name): choices differ from \(e?.typeName ?? "?")")
                if let parserEnum { #expect(parserEnum.typeName == e?.typeName, "\(s.name): choices and parser use different enums") }
            }
        }
    }

    /// No array literal in the sources lists three or more values of one choice enum: such
    /// lists are predicates of the enum (`OutputFormat.isExtensionOrPortable`) or read from it.
    @Test func noEnumValuesListedOutsideTheirEnum() throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let sources = root.appendingPathComponent("Sources").path
        let enums = ConfigEnum.all.filter { $0.values.count >= 3 }
        let literal = try NSRegularExpression(pattern: #"\[\s*"[^"\n]*"(?:\s*,\s*"[^"\n]*")+\s*,?\s*\]"#)
        let item = try NSRegularExpression(pattern: #""([^"\n]*)""#)
        var offenders: [String] = []
        for file in FileManager.default.subpaths(atPath: sources) ?? [] where file.hasSuffix(".swift") {
            // Generated from Resources/ (documentation text), not code.
            if file.hasSuffix("BuiltinResourceFiles.swift") { continue }
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            let ns = text as NSString
            for m in literal.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let lit = ns.substring(with: m.range)
                let values = item.matches(in: lit, range: NSRange(location: 0, length: (lit as NSString).length))
                    .map { (lit as NSString).substring(with: $0.range(at: 1)) }
                for e in enums where values.filter({ e.values.contains($0) }).count >= 3 {
                    offenders.append("\(file): \(lit) lists \(e.typeName) values")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders.joined(separator: "\n"))")
    }

    @Test func findingsNameSettingAndLocation() throws {
        let p = try Project(["mkosi.conf": "[Output]\nFormat=tar\n[Content]\nSsh=always\n[Build]\nForeignUIDRange=yes\n[Runtime]\nTPM=yes\n"])
        let loaded = try p.load(["build"])
        let findings = SupportReport.findings(loaded)
        let byName = Dictionary(findings.map { ($0.setting.name, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["ForeignUIDRange"]?.kind == .refused)
        #expect(byName["ForeignUIDRange"]?.message == "mkosi.conf:6: ForeignUIDRange=yes asks for the foreign UID range (mapped through systemd-nsresourced, which cannot load its BPF program on the machines this mkosi is tested on), which is not implemented yet in this mkosi")
        #expect(byName["Ssh"]?.kind == .notApplicable)
        #expect(byName["TPM"]?.kind == .notApplicable)
        #expect(findings.count == 3)

        let disk = try Project(["mkosi.conf": "[Runtime]\nTPM=yes\nRAM=2G\n[Output]\nFormat=disk\nElTorito=yes\n[Build]\nUseSubvolumes=yes\n"
                                    + "ProxyPeerCertificate=ca.pem\nForeignUIDRange=yes\n", "ca.pem": "x"])
        let f2 = SupportReport.findings(try disk.load(["build"]))
        #expect(f2.map(\.setting.name) == ["ForeignUIDRange"],
                "RAM=2G is the default, TPM=, ElTorito=, UseSubvolumes= and ProxyPeerCertificate= honoured: none is reported")
        #expect(f2.first?.kind == .refused)
        // SplitArtifacts=pcrs is honoured, and its certificate has an effect on Format=uki: no finding.
        let pcrs = try Project(["mkosi.conf": "[Output]\nFormat=uki\nSplitArtifacts=uki,pcrs\n[Validation]\nSignExpectedPcrCertificate=pcr.crt\n",
                                "pcr.crt": "not really a certificate\n"])
        #expect(SupportReport.findings(try pcrs.load(["build"])).isEmpty)
        // Nothing in the table is only warned about any more: every setting acts, or is refused.
        #expect(!Settings.all.contains { if case .notYet(.warn) = $0.support.status { return true } else { return false } })
    }

    @Test func defaultsAndBuiltinImagesHaveNoFindings() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=debian\n[Content]\nPackages=linux-image-amd64\n[Build]\nToolsTree=default\n"])
        let loaded = try p.load(["build"])
        #expect(loaded.images.count == 2)
        #expect(SupportReport.findings(loaded).map(\.message) == [])
    }

    /// A configure script's output replaces the configuration; what it leaves out goes back to
    /// the default, as upstream (`Config.from_json` over `Config.default()`).
    @Test func configureOutputResetsOmittedSettings() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=debian\nRelease=trixie\n[Content]\nPackages=vim\n[Output]\nFormat=tar\n"])
        let c = try p.main(["build"])
        let updated = try c.applying(json: [("Packages", .array([.string("hello")])), ("Release", .string("bookworm")),
                                           ("Image", .string("ignored")), ("NoSuchSetting", .array([]))], from: "mkosi.configure")
        #expect(updated[.packages] == ["hello"] && updated.release == "bookworm")
        #expect(updated.format == .disk, "Format= left out: back to its default")
        #expect(updated.image == "main")
        #expect(updated.origins(of: .outputFormat) == [.defaultValue])
        #expect(errorMessage { _ = try c.applying(json: [("NoSuchSetting", .string("x"))], from: "mkosi.configure") }
                == "mkosi.configure printed an unknown setting NoSuchSetting")
    }
}
