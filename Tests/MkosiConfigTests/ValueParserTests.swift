import Foundation
@testable import MkosiConfig
import MkosiCore
import Testing

@Suite struct ValueParserTests {
    @Test func stringParser() throws {
        #expect(try parse(.string, ["x"]) == .string("x"))
        #expect(try parse(.string, [""]) == .null)
        #expect(try parse(.string, [nil]) == .null)
    }

    @Test(arguments: ["1", "yes", "TRUE", "y", "t", "on", "always", "Yes"])
    func booleanTrue(_ s: String) throws { #expect(try parse(.boolean, [s]) == .bool(true)) }

    @Test(arguments: ["0", "no", "False", "n", "f", "off", "never"])
    func booleanFalse(_ s: String) throws { #expect(try parse(.boolean, [s]) == .bool(false)) }

    @Test func booleanEdges() throws {
        #expect(try parse(.boolean, [nil]) == .bool(false))
        #expect(try parse(.boolean, [""]) == .null)
        #expect(errorMessage { _ = try parse(.boolean, ["maybe"]) } == "Invalid boolean literal: 'maybe'")
    }

    @Test func feature() throws {
        #expect(try parse(.feature, [nil]) == .string("auto"))
        #expect(try parse(.feature, ["auto"]) == .string("auto"))
        #expect(try parse(.feature, ["yes"]) == .string("enabled"))
        #expect(try parse(.feature, ["no"]) == .string("disabled"))
        #expect(try parse(.feature, ["enabled"]) == .string("enabled"))
        #expect(try parse(.feature, [""]) == .null)
    }

    @Test func enumerations() throws {
        #expect(try parse(.enumeration(.outputFormat), ["tar"]) == .string("tar"))
        #expect(errorMessage { _ = try parse(.enumeration(.outputFormat), ["qcow3"]) } == "'qcow3' is not a valid OutputFormat")
        #expect(try parse(.enumeration(.distribution), [""]) == .null)
        let incremental = ValueParser.enumOrBoolean(.incremental, yes: "yes", no: "no")
        #expect(try parse(incremental, ["strict"]) == .string("strict"))
        #expect(try parse(incremental, ["true"]) == .string("yes"))
        let cacheOnly = ValueParser.enumOrBoolean(.cacheOnly, yes: "always", no: "auto")
        #expect(try parse(cacheOnly, ["no"]) == .string("auto"))
        #expect(try parse(cacheOnly, ["metadata"]) == .string("metadata"))
    }

    @Test(arguments: [("zstd", "zstd"), ("zst", "zstd"), ("gzip", "gz"), ("gz", "gz"), ("xz", "xz"), ("lz4", "lz4"),
                      ("yes", "zstd"), ("no", "none"), ("none", "none"), ("lzma", "lzma"), ("bz2", "bz2")])
    func compression(_ input: String, _ expected: String) throws {
        #expect(try parse(.compression, [input]) == .string(expected))
    }

    @Test func uuid() throws {
        #expect(try parse(.uuid, ["F5E9C6A4E1A34C66B7B04F0B3F3E0C12"]) == .string("f5e9c6a4-e1a3-4c66-b7b0-4f0b3f3e0c12"))
        #expect(try parse(.uuid, ["{f5e9c6a4-e1a3-4c66-b7b0-4f0b3f3e0c12}"]) == .string("f5e9c6a4-e1a3-4c66-b7b0-4f0b3f3e0c12"))
        let random = try parse(.uuid, ["random"]).string ?? ""
        #expect(random.count == 36 && random.split(separator: "-").count == 5)
        #expect(errorMessage { _ = try parse(.uuid, ["nope"]) } == "nope is not a valid UUID")
    }

    @Test func integers() throws {
        #expect(try parse(.sourceDateEpoch, ["1700000000"]) == .int(1_700_000_000))
        #expect(errorMessage { _ = try parse(.sourceDateEpoch, ["-1"]) } == "Source date epoch timestamp cannot be negative (got -1)")
        #expect(errorMessage { _ = try parse(.sourceDateEpoch, ["x"]) } == "Timestamp 'x' is not a valid integer")
        #expect(try parse(.compressLevel, [" 19 "]) == .int(19))
        #expect(errorMessage { _ = try parse(.compressLevel, ["-2"]) } == "Compression level cannot be negative (got -2)")
        #expect(try parse(.number, ["1_000"]) == .int(1000))
        #expect(errorMessage { _ = try parse(.number, ["4x"]) } == "'4x' is not a valid number")
    }

    @Test func mode() throws {
        #expect(try parse(.mode, ["0755"]) == .int(0o755))
        #expect(try parse(.mode, ["1777"]) == .int(0o1777))
        #expect(errorMessage { _ = try parse(.mode, ["2000"]) } == "Access mode cannot be greater than 1777 (got 2000)")
        #expect(errorMessage { _ = try parse(.mode, ["9"]) } == "Access mode '9' is not a valid integer in base 8")
    }

    @Test(arguments: [("1", 4096), ("4096", 4096), ("4097", 8192), ("1K", 4096), ("8K", 8192), ("1.5K", 4096),
                      ("2M", 2_097_152), ("1.5G", 1_610_612_736), ("2G", 2_147_483_648), ("0.001M", 4096)])
    func bytes(_ input: String, _ expected: Int) throws {
        #expect(try parse(.bytes, [input]) == .int(expected))
    }

    @Test(arguments: ["0", "-1G", "lots", "G", "inf"])
    func badBytes(_ input: String) {
        #expect(errorMessage { _ = try parse(.bytes, [input]) } != nil)
    }

    @Test func sectorSizeAndVsock() throws {
        #expect(try parse(.sectorSize, ["512"]) == .int(512))
        #expect(errorMessage { _ = try parse(.sectorSize, ["256"]) } == "Sector size not between 512 and 4096: 256")
        #expect(errorMessage { _ = try parse(.sectorSize, ["1000"]) } == "Sector size not power of 2: 1000")
        #expect(try parse(.vsockCID, ["auto"]) == .int(-1))
        #expect(try parse(.vsockCID, ["hash"]) == .int(-2))
        #expect(try parse(.vsockCID, ["42"]) == .int(42))
        #expect(errorMessage { _ = try parse(.vsockCID, ["2"]) } != nil)
    }

    @Test func minimumVersionKeepsTheHighest() throws {
        #expect(try parse(.minimumVersion, ["20", "25", "21"]) == .string("25"))
        #expect(try parse(.minimumVersion, ["20", ""]) == .string("20"))
        #expect(errorMessage { _ = try parse(.minimumVersion, ["999"]) }?.contains("or newer is required") == true)
        // systemd's own configuration asks for an upstream commit: taken as met (with a warning).
        #expect(try parse(.minimumVersion, ["25", "commit:0123abcd"]) == .string("commit:0123abcd"))
    }

    @Test func paths() throws {
        let p = try Project(["file": "x", "dir/inner": "y"])
        let existing = ValueParser.path(.existing)
        #expect(try parse(existing, ["file"], cwd: p.dir).string == p.dir + "/file")
        #expect(try parse(existing, ["./dir/../file"], cwd: p.dir).string == p.dir + "/file")
        #expect(errorMessage { _ = try parse(existing, ["missing"], cwd: p.dir) } == "missing does not exist")
        #expect(try parse(.path(.optional), ["missing"], cwd: p.dir).string == p.dir + "/missing")
        #expect(try parse(.path(PathOptions(constants: ["default"])), ["default"], cwd: p.dir) == .string("default"))
        let absolute = PathOptions(required: false, absolute: true)
        #expect(errorMessage { _ = try parse(.path(absolute), ["rel"], cwd: p.dir) } == "rel must be an absolute path")
        let excluded = PathOptions(required: false, exclude: ["/usr"])
        #expect(errorMessage { _ = try parse(.path(excluded), ["/usr/bin"], cwd: p.dir) } == "/usr/bin can not be relative to /usr")
        setenv("MKOSI_TEST_VAR", "dir", 1)
        #expect(try parse(existing, ["$MKOSI_TEST_VAR/inner"], cwd: p.dir).string == p.dir + "/dir/inner")
    }

    @Test func secretFilesMustNotBeReadableByOthers() throws {
        let p = try Project()
        try p.write("key", "secret", mode: 0o644)
        try p.write("okkey", "secret", mode: 0o600)
        let secret = ValueParser.path(PathOptions(secret: true))
        #expect(errorMessage { _ = try parse(secret, ["key"], cwd: p.dir) }?.contains("are too open") == true)
        #expect(try parse(secret, ["okkey"], cwd: p.dir).string == p.dir + "/okkey")
        #expect(try parse(.key, ["okkey"], cwd: p.dir).string == p.dir + "/okkey")
        #expect(try parse(.key, ["pkcs11:token=x"], cwd: p.dir) == .string("pkcs11:token=x"))
    }

    @Test func keySources() throws {
        #expect(try parse(.keySource, [""]) == .keySource(type: "file", source: ""))
        #expect(try parse(.keySource, ["engine:pkcs11"]) == .keySource(type: "engine", source: "pkcs11"))
        #expect(errorMessage { _ = try parse(.certificateSource, ["engine:x"]) } == "'engine:x' is not a valid certificate source")
    }

    @Test func filenames() throws {
        let f = ValueParser.filename(hint: "h")
        #expect(try parse(f, ["image"]) == .string("image"))
        for bad in ["a/b", ".", ".."] {
            #expect(errorMessage { _ = try parse(f, [bad]) } != nil)
        }
    }

    @Test func rootPassword() throws {
        #expect(try parse(.rootPassword, ["hashed:$6$x"]) == .rootPassword("$6$x", hashed: true))
        #expect(try parse(.rootPassword, [" plain "]) == .rootPassword("plain", hashed: false))
    }

    @Test func splitArtifacts() throws {
        #expect(strings(try parse(.artifactList, ["yes"])) == ["uki", "kernel", "initrd", "partitions"])
        #expect(strings(try parse(.artifactList, ["no"])) == ["uki", "kernel", "initrd"])
        #expect(strings(try parse(.artifactList, ["uki,tar", "pcrs"])) == ["uki", "tar", "pcrs"])
        #expect(try parse(.artifactList, [""]) == .list([]))
    }

    @Test func listsSplitAppendAndReset() throws {
        let plain = ValueParser.list(ListOptions())
        #expect(strings(try parse(plain, ["a,b c\nd", "e"])) == ["a", "b", "c", "d", "e"])
        #expect(try parse(plain, ["a", ""]) == .null)
        #expect(strings(try parse(plain, ["a", "", "b"])) == ["b"])
        #expect(try parse(plain, [nil]) == .list([]))
        let spaced = ValueParser.list(ListOptions(delimiter: " "))
        #expect(strings(try parse(spaced, ["a=1,2 b"])) == ["a=1,2", "b"])
        let quoted = ValueParser.list(ListOptions(delimiter: " ", unescape: true))
        #expect(strings(try parse(quoted, ["-device \"virtio x\" 'a b'"])) == ["-device", "virtio x", "a b"])
        #expect(errorMessage { _ = try parse(quoted, ["\"open"]) } != nil)
        let noReset = ValueParser.list(ListOptions(reset: false))
        #expect(strings(try parse(noReset, ["a", ""])) == ["a"])
    }

    @Test func packageListsAreSortedByKind() throws {
        let packages = ValueParser.list(ListOptions(sortPackages: true))
        #expect(strings(try parse(packages, ["zsh /opt/x.rpm (a or b) bash", "/abs apt"]))
                == ["apt", "b)", "bash", "or", "zsh", "/abs", "/opt/x.rpm", "(a"])
    }

    @Test func globsExpandSortedAndDropMissing() throws {
        let p = try Project(["s/b.sh": "#!/bin/sh\n", "s/a.sh": "#!/bin/sh\n", "s/.hidden": ""])
        let scripts = ValueParser.list(ListOptions(item: .path(.existing), expandGlobs: true))
        #expect(strings(try parse(scripts, ["s/*", "nonexistent"], cwd: p.dir)) == [p.dir + "/s/a.sh", p.dir + "/s/b.sh"])
    }

    @Test func trees() throws {
        let p = try Project(["src/x": ""])
        let tree = ValueParser.list(ListOptions(item: .tree(TreeOptions())))
        let v = try parse(tree, ["src:/usr/share src"], cwd: p.dir)
        #expect(v.trees == [ConfigTree(source: p.dir + "/src", target: "/usr/share"), ConfigTree(source: p.dir + "/src", target: nil)])
        #expect(errorMessage { _ = try parse(tree, ["src:relative"], cwd: p.dir) } == "relative must be an absolute path")
        let required = ValueParser.list(ListOptions(item: .tree(TreeOptions(required: true))))
        #expect(errorMessage { _ = try parse(required, ["nope"], cwd: p.dir) } == "nope does not exist")
    }

    @Test func dictionaries() throws {
        setenv("MKOSI_TEST_HOST", "fromhost", 1)
        let environment = ValueParser.dict(delimiter: " ", item: .environment, unescape: true)
        let v = try parse(environment, ["A=1 \"B=two words\"", "A=3 MKOSI_TEST_HOST"])
        #expect(v.dict == OrderedDict([("A", "3"), ("B", "two words"), ("MKOSI_TEST_HOST", "fromhost")]))
        #expect(try parse(environment, ["A=1", ""]) == .null)
        #expect(try parse(environment, [nil]) == .dict(OrderedDict()))
    }

    @Test func credentials() throws {
        let p = try Project(["creds/one": "1", "creds/two": "2", "creds/sub/x": ""])
        let v = try parse(.credentials, ["a=b \"c=d e\"", "creds"], cwd: p.dir)
        let names = v.list?.compactMap { if case .credential(let c) = $0 { return c.name } else { return nil } }
        #expect(names == ["a", "c", "one", "two"])
        #expect(errorMessage { _ = try parse(.credentials, ["missing"], cwd: p.dir) } == "\(p.dir)/missing does not exist")
    }

    @Test func drives() throws {
        let drives = ValueParser.list(ListOptions(delimiter: " ", item: .drive))
        let v = try parse(drives, ["d1:1G d2:512M::cache=none:f2:persist"])
        guard case .drive(let a)? = v.list?.first, case .drive(let b)? = v.list?.last else {
            Issue.record("no drives")
            return
        }
        #expect(a == Drive(id: "d1", size: 1 << 30, directory: nil, options: nil, fileId: "d1", flags: []))
        #expect(b == Drive(id: "d2", size: 512 << 20, directory: nil, options: "cache=none", fileId: "f2", flags: ["persist"]))
        #expect(errorMessage { _ = try parse(drives, ["d1"]) } == "Missing size in drive 'd1'")
    }

    @Test func kernelModuleRegexesAndProfiles() throws {
        let regex = ValueParser.list(ListOptions(item: .kernelModuleRegex))
        #expect(strings(try parse(regex, ["ext4 default host"])) == ["re:ext4", "default", "host"])
        let profiles = ValueParser.list(ListOptions(item: .profile))
        #expect(errorMessage { _ = try parse(profiles, ["a/b"]) } == "'a/b' is not a valid profile")
    }

    @Test func ukiProfiles() throws {
        let p = try Project(["p.conf": "[UKIProfile]\nProfile=ID=a\n  TITLE=A\nCmdline=x y\nSignExpectedPcr=no\n"])
        let v = try parse(.list(ListOptions(item: .ukiProfile)), ["p.conf"], cwd: p.dir)
        guard case .ukiProfile(let profile)? = v.list?.first else {
            Issue.record("no profile")
            return
        }
        #expect(profile.profile == OrderedDict([("ID", "a"), ("TITLE", "A")]))
        #expect(profile.cmdline == ["x", "y"])
        #expect(profile.signExpectedPcr == false)
    }

    /// Every setting's parser accepts "no value" (how defaults are made) without throwing.
    @Test func everySettingHasAnEmptyValue() throws {
        for s in Settings.all {
            _ = try s.parser.parse(nil, old: nil, env: env)
        }
        #expect(Settings.all.count == 188)
        #expect(Settings.dests.count == 185)
        #expect(Settings.jsonDests.count == 176)
    }
}
