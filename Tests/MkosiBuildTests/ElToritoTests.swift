import Foundation
import MkosiConfig
import MkosiCore
import Testing
@testable import MkosiBuild

/// `ElTorito=` and its identifiers as systemd-repart gets them, and `yes` refused with an older
/// systemd-repart before any work.
@Suite struct ElToritoTests {
    typealias Project = InputCheckTests.Project

    func config(_ output: String) throws -> Config {
        let p = try Project(["mkosi.conf": InputCheckTests.base + "[Output]\nFormat=disk\n" + output])
        return try #require(try p.load().images.last)
    }

    @Test func argumentsFollowTheSettingAndTheHost() throws {
        let named = try config("ElToritoSystem=SYS\nElToritoVolume=VOL\nElToritoPublisher=Some One\n")
        #expect(Disk.elToritoArguments(named, repartVersion: 261, grubBIOS: false, esp: true)
                == ["--el-torito=yes", "--el-torito-system=SYS", "--el-torito-volume=VOL", "--el-torito-publisher=Some One"])
        // auto: not with an older repart, grub for BIOS, or no ESP.
        #expect(Disk.elToritoArguments(named, repartVersion: 260, grubBIOS: false, esp: true) == [])
        #expect(Disk.elToritoArguments(named, repartVersion: 262, grubBIOS: true, esp: true) == [])
        #expect(Disk.elToritoArguments(named, repartVersion: 262, grubBIOS: false, esp: false) == [])
        let yes = try config("ElTorito=yes\n")
        #expect(Disk.elToritoArguments(yes, repartVersion: 262, grubBIOS: true, esp: false) == ["--el-torito=yes"])
        #expect(Disk.elToritoArguments(try config("ElTorito=no\n"), repartVersion: 262, grubBIOS: false, esp: true) == [])
        #expect(SupportReport.findings(named, cwd: "/").map(\.message) == [])
    }

    @Test func yesNeedsRepart261() throws {
        let p = try Project(["mkosi.conf": InputCheckTests.base + "[Output]\nFormat=disk\nElTorito=yes\n"])
        var facts = InputCheckTests.Facts()
        facts.tools = ["systemd-repart": 257]
        let message = try #require(try p.failure(facts: facts))
        #expect(message.contains("ElTorito=") && message.contains("261"), "\(message)")
        facts.tools = ["systemd-repart": 262]
        #expect(try p.failure(facts: facts) == nil)
    }
}
