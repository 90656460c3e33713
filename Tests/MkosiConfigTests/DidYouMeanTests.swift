@testable import MkosiConfig
import MkosiCore
import Testing

/// "Did you mean …?" for each kind of name, through the real loader and command-line parser:
/// upstream's message (and exit status) is kept, the nearest real name and where the name was
/// written are added.
@Suite struct DidYouMeanTests {
    /// The usage error of loading `argv` in `p`.
    func usageError(_ p: Project, _ argv: [String]) -> MkosiError? {
        do {
            _ = try p.load(argv)
            return nil
        } catch let e as MkosiError {
            return e
        } catch {
            return nil
        }
    }

    @Test func settingInAFileStaysAWarningNamingTheLineAndTheSetting() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=custom\n[Content]\nPakages=vim\npackages=less\n"
                                + "QemuMme=2G\nNoSuchThingAtAll=1\n"])
        let (config, warnings) = try Log.capturing { try p.main() }
        #expect(config[.packages].isEmpty)
        #expect(warnings.contains("\(p.dir)/mkosi.conf:4: Unknown setting Pakages (did you mean Packages?)"), "\(warnings)")
        #expect(warnings.contains("\(p.dir)/mkosi.conf:5: Unknown setting packages (did you mean Packages?)"), "\(warnings)")
        // Old names count: QemuMem= is RAM='s old name, so RAM is meant.
        #expect(warnings.contains("\(p.dir)/mkosi.conf:6: Unknown setting QemuMme (did you mean RAM?)"), "\(warnings)")
        #expect(warnings.contains("\(p.dir)/mkosi.conf:7: Unknown setting NoSuchThingAtAll"), "\(warnings)")
    }

    @Test func unknownSectionIsNamedWithTheNearestOne() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=custom\n[Contnet]\nPackages=vim\n[Frobnicate]\nA=b\n"
                                + "[Match]\nImage=main\n[TriggerMatch]\nImage=main\n"])
        let (config, warnings) = try Log.capturing { try p.main() }
        #expect(config[.packages].isEmpty)
        #expect(warnings.contains("\(p.dir)/mkosi.conf:3: Unknown section [Contnet], its settings are ignored (did you mean [Content]?)"),
                "\(warnings)")
        #expect(warnings.contains("\(p.dir)/mkosi.conf:5: Unknown section [Frobnicate], its settings are ignored"), "\(warnings)")
        // (Other tests may have turned on debug messages, which are captured too.)
        #expect(warnings.filter { $0.contains("Unknown") }.count == 2, "\(warnings)")
    }

    @Test func unknownMatchKeyStaysAnErrorWithTheNearestSetting() throws {
        let p = try Project(["mkosi.conf": "[Match]\nDistributon=debian\n"])
        let message = errorMessage { _ = try p.load() }
        #expect(message == "\(p.dir)/mkosi.conf:2: Distributon cannot be used in [Match] (did you mean Distribution?)")
    }

    @Test func verbAndOptionAreUsageErrorsWithASuggestion() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=custom\n"])
        let verb = usageError(p, ["biuld"])
        #expect(verb?.code == .usage)
        #expect(verb?.message == "argument verb: invalid Verb value: 'biuld' (did you mean build?)")
        #expect(usageError(p, ["xyzzy"])?.message == "argument verb: invalid Verb value: 'xyzzy'")

        let option = usageError(p, ["--pacakge=vim", "summary"])
        #expect(option?.code == .usage)
        #expect(option?.message == "unrecognized arguments: --pacakge=vim (did you mean --package?)")
        // An old option name is given as the current one.
        #expect(usageError(p, ["--qemu-mme=2G", "summary"])?.message == "unrecognized arguments: --qemu-mme=2G (did you mean --ram?)")
        #expect(usageError(p, ["--pacakge=vim", "--forec", "summary"])?.message
                == "unrecognized arguments: --pacakge=vim --forec (did you mean --package instead of --pacakge=vim, --force instead of --forec?)")
        // The value of a misspelled option is taken for the verb, as upstream; the option is named.
        #expect(usageError(p, ["--pacakge", "vim"])?.message
                == "argument verb: invalid Verb value: 'vim' (--pacakge is not an option: did you mean --package vim?)")
    }

    @Test func profileNearAnEntryOfMkosiProfilesIsNamedWithWhereItWasSet() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=custom\n",
                             "mkosi.profiles/name/mkosi.conf": "[Content]\nPackages=from-name\n",
                             "mkosi.profiles/devel.conf": "[Content]\nPackages=from-devel\n"])
        let (cli, warnings) = try Log.capturing { try p.main(["--profile=nme", "summary"]) }
        // As upstream, an unknown profile is no error and selects nothing.
        #expect(cli[.packages].isEmpty && cli[.profiles] == ["nme"])
        #expect(warnings.contains("Profile nme (set by command line (--profile)) has no mkosi.profiles/nme or mkosi.profiles/nme.conf"
                                  + " (did you mean name?)"), "\(warnings)")

        try p.write("mkosi.conf.d/10-profile.conf", "[Config]\nProfiles=devle\n")
        let (file, fileWarnings) = try Log.capturing { try p.main() }
        #expect(file[.packages].isEmpty)
        #expect(fileWarnings.contains { $0.hasPrefix("Profile devle (set by \(p.dir)/mkosi.conf.d/10-profile.conf:2)")
                                        && $0.hasSuffix("(did you mean devel?)") }, "\(fileWarnings)")

        // A real profile, or one only [Match] sections use, is not questioned.
        try p.write("mkosi.conf.d/10-profile.conf", "[Config]\nProfiles=name nam\n")
        try p.write("mkosi.conf.d/20-match.conf", "[Match]\nProfiles=nam\n[Content]\nPackages=matched\n")
        let (good, goodWarnings) = try Log.capturing { try p.main() }
        #expect(Set(good[.packages]) == ["from-name", "matched"], "\(good[.packages])")
        #expect(!goodWarnings.contains { $0.hasPrefix("Profile") || $0.contains("Unknown") }, "\(goodWarnings)")
    }
}
