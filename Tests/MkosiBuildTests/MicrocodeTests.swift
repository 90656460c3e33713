import Foundation
import MkosiConfig
import MkosiCore
import Testing
@testable import MkosiBuild

/// The microcode initrd, device tree selection and the PE reader, without building anything.
@Suite struct MicrocodeTests {
    let intelCPU = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\nstepping\t: 7\n\nprocessor\t: 1\n"

    @Test func everyVendorsMicrocodeByDefault() {
        let files = Microcode.plan(amd: ["microcode_amd_fam17h.bin", "microcode_amd.bin"], intel: ["06-55-07", "06-55-04"],
                                   cpu: nil, hostOnly: false)
        #expect(files == [
            Microcode.File(name: "AuthenticAMD.bin", sources: ["usr/lib/firmware/amd-ucode/microcode_amd.bin",
                                                               "usr/lib/firmware/amd-ucode/microcode_amd_fam17h.bin"]),
            Microcode.File(name: "GenuineIntel.bin", sources: ["usr/lib/firmware/intel-ucode/06-55-04",
                                                               "usr/lib/firmware/intel-ucode/06-55-07"]),
        ])
        #expect(Microcode.plan(amd: nil, intel: nil, cpu: nil, hostOnly: false).isEmpty)
        #expect(Microcode.plan(amd: nil, intel: ["06-55-07"], cpu: nil, hostOnly: false).map(\.name) == ["GenuineIntel.bin"])
    }

    /// MicrocodeHost=: only the host processor's file, named as upstream looks it up.
    @Test func hostOnlyKeepsTheHostsFile() throws {
        let intel = try #require(Microcode.identify(intelCPU))
        #expect(intel == Microcode.CPU(vendor: "GenuineIntel", family: 6, model: 85, stepping: 7))
        #expect(Microcode.plan(amd: ["microcode_amd.bin"], intel: ["06-55-07", "06-55-04"], cpu: intel, hostOnly: true)
                    == [Microcode.File(name: "GenuineIntel.bin", sources: ["usr/lib/firmware/intel-ucode/06-55-07"])])
        #expect(Microcode.plan(amd: nil, intel: ["06-55-04"], cpu: intel, hostOnly: true).isEmpty)
        let amd = Microcode.CPU(vendor: "AuthenticAMD", family: 25, model: 1, stepping: 1)
        #expect(Microcode.plan(amd: ["microcode_amd_fam19h.bin", "microcode_amd.bin"], intel: nil, cpu: amd, hostOnly: true)
                    == [Microcode.File(name: "AuthenticAMD.bin", sources: ["usr/lib/firmware/amd-ucode/microcode_amd_fam19h.bin"])])
        let oldAMD = Microcode.CPU(vendor: "AuthenticAMD", family: 16, model: 1, stepping: 1)
        #expect(Microcode.plan(amd: ["microcode_amd.bin"], intel: nil, cpu: oldAMD, hostOnly: true).first?.sources
                    == ["usr/lib/firmware/amd-ucode/microcode_amd.bin"])
        #expect(Microcode.identify("processor : 0\n") == nil)
    }

    @Test func theUcodeSectionNeedsSystemd256() {
        #expect(Microcode.useSection(ukify: 257, stub: 257))
        #expect(!Microcode.useSection(ukify: 255, stub: 257))
        #expect(!Microcode.useSection(ukify: 257, stub: nil))
    }

    /// A minimal PE file with two sections.
    static func pe(_ sections: [(String, [UInt8])]) -> Data {
        var bytes = [UInt8](repeating: 0, count: 0x100)
        bytes[0] = 0x4D; bytes[1] = 0x5A; bytes[0x3C] = 0x40
        bytes.replaceSubrange(0x40..<0x44, with: [0x50, 0x45, 0, 0])
        bytes[0x46] = UInt8(sections.count)
        func put32(_ at: Int, _ v: Int) { for i in 0..<4 { bytes[at + i] = UInt8((v >> (8 * i)) & 0xFF) } }
        var offset = 0x100
        var payload: [UInt8] = []
        for (i, (name, content)) in sections.enumerated() {
            let at = 0x58 + 40 * i
            for (j, c) in name.utf8.enumerated() { bytes[at + j] = c }
            let raw = (content.count + 0x3F) & ~0x3F
            put32(at + 8, content.count); put32(at + 16, raw); put32(at + 20, offset)
            payload += content + [UInt8](repeating: 0, count: raw - content.count)
            offset += raw
        }
        return Data(bytes + payload)
    }

    @Test func peSectionsAreReadAsUpstreamExtractsThem() throws {
        let magic = Array("#### LoaderInfo: systemd-stub 257.9-1 ####\0".utf8)
        let file = try #require(PEFile(Self.pe([(".sdmagic", magic), (".linux", Array("KERNEL".utf8))])))
        #expect(file.sections.map(\.name) == [".sdmagic", ".linux"])
        #expect(file.section(".linux") == Data("KERNEL".utf8))
        #expect(file.stubVersion == 257)
        #expect(file.section(".initrd") == nil)
        #expect(PEFile(Data("not a PE file at all, just some text that is long enough to be looked at......".utf8)) == nil)
    }

    /// Devicetrees= globs select the blobs of the kernel's device tree directories.
    @Test func devicetreesAreFoundByGlob() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-dtb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for path in ["usr/lib/modules/6.1/dtb/arm/board-a.dtb", "usr/lib/modules/6.1/dtb/arm/board-b.dtb",
                     "usr/lib/modules/6.1/dtb/other/x.dtb", "usr/lib/linux-image-6.1/vendor/c.dtb", "usr/lib/modules/6.1/dtb/README"] {
            try FileManager.default.createDirectory(atPath: root + "/" + (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: root + "/" + path, contents: Data())
        }
        #expect(Devicetrees.find(root: root, version: "6.1", globs: ["board-a.dtb"]).map(\.path) == ["usr/lib/modules/6.1/dtb/arm/board-a.dtb"])
        #expect(Devicetrees.find(root: root, version: "6.1", globs: ["arm/"]).map(\.relative) == ["arm/board-a.dtb", "arm/board-b.dtb"])
        #expect(Devicetrees.find(root: root, version: "6.1", globs: ["*", "-board-b.dtb"]).map(\.path)
                    == ["usr/lib/linux-image-6.1/vendor/c.dtb", "usr/lib/modules/6.1/dtb/arm/board-a.dtb", "usr/lib/modules/6.1/dtb/other/x.dtb"])
        #expect(Devicetrees.find(root: root, version: "6.1", globs: []).isEmpty)
    }
}

/// How the microcode and device trees reach ukify.
@Suite struct UkifyArgumentTests {
    @Test func microcodeIsItsOwnSectionOrTheFirstInitrd() {
        #expect(Boot.initrdArguments(microcodes: ["/work/ucode0"], initrds: ["/work/initrd0"], ucodeSection: true)
                    == ["--microcode", "/work/ucode0", "--initrd", "/work/initrd0"])
        #expect(Boot.initrdArguments(microcodes: ["/work/ucode0"], initrds: ["/work/initrd0"], ucodeSection: false)
                    == ["--initrd", "/work/ucode0", "--initrd", "/work/initrd0"])
        #expect(Boot.initrdArguments(microcodes: [], initrds: [], ucodeSection: true).isEmpty)
    }

    @Test func oneDevicetreeIsDtbSeveralAreDtbauto() {
        let a = Devicetrees.Blob(path: "usr/lib/modules/6.1/dtb/a.dtb", relative: "a.dtb")
        let b = Devicetrees.Blob(path: "usr/lib/modules/6.1/dtb/b.dtb", relative: "b.dtb")
        #expect(Boot.devicetreeArguments([a]) == ["--devicetree", "/buildroot/usr/lib/modules/6.1/dtb/a.dtb"])
        #expect(Boot.devicetreeArguments([a, b]) == ["--devicetree-auto", "/buildroot/usr/lib/modules/6.1/dtb/a.dtb",
                                                      "--devicetree-auto", "/buildroot/usr/lib/modules/6.1/dtb/b.dtb"])
        #expect(Boot.devicetreeArguments([]).isEmpty)
    }
}
