@testable import MkosiConfig
import MkosiCore
import Testing

/// Discovery, precedence, matching in files, specifiers and scopes, through the whole loader.
@Suite struct PrecedenceTests {
    @Test func scalarPrecedenceFromAutoFileToCommandLine() throws {
        let p = try Project([
            "mkosi.version": "auto\n",
            "mkosi.conf": "[Output]\nImageVersion=conf\nImageId=conf\n",
            "mkosi.conf.d/10.conf": "[Output]\nImageId=dropin\n",
            "mkosi.profiles/p.conf": "[Output]\nImageId=profile\n",
        ])
        #expect(try p.main()["image_version"] == .string("conf"))
        #expect(try p.main()["image_id"] == .string("dropin"))
        #expect(try p.main(["--profile", "p", "summary"])["image_id"] == .string("profile"))
        try p.write("mkosi.local.conf", "[Output]\nImageId=local\n")
        #expect(try p.main(["--profile", "p", "summary"])["image_id"] == .string("local"))
        #expect(try p.main(["--image-id", "cli", "--profile", "p"])["image_id"] == .string("cli"))
    }

    /// mkosi.local/ is promoted first, so mkosi.local.conf cannot override it (upstream's code;
    /// its manual says otherwise).
    @Test func localDirectoryBeatsLocalConf() throws {
        let p = try Project([
            "mkosi.conf": "[Output]\nImageVersion=1\n",
            "mkosi.local.conf": "[Output]\nImageVersion=2\n",
            "mkosi.local/mkosi.conf": "[Output]\nImageVersion=3\n",
        ])
        #expect(try p.main()["image_version"] == .string("3"))
    }

    @Test func listsAccumulateInParseOrderAndResetOnEmpty() throws {
        let p = try Project([
            "mkosi.conf": "[Content]\nPackages=a\n",
            "mkosi.conf.d/10.conf": "[Content]\nPackages=b\n",
            "mkosi.conf.d/20.conf": "[Match]\nDistribution=!fedora\n[Content]\nPackages=c\n",
            "mkosi.profiles/p/mkosi.conf": "[Content]\nPackages=d\n",
            "mkosi.extra/file": "",
        ])
        let c = try p.main(["-d", "debian", "--profile=p", "-p", "cli"])
        #expect(c.packages == ["a", "b", "c", "d", "cli"])
        #expect(c["extra_trees"].trees.map(\.source) == [p.dir + "/mkosi.extra"])
        try p.write("mkosi.conf.d/30.conf", "[Content]\nPackages=\nExtraTrees=\n")
        let reset = try p.main(["-d", "debian"])
        #expect(reset.packages == [])
        #expect(reset["extra_trees"] == .list([]))
    }

    @Test func commandLineResetDropsConfigurationValues() throws {
        let p = try Project(["mkosi.conf": "[Content]\nPackages=conf\n[Build]\nEnvironment=A=1\n"])
        #expect(try p.main(["--package", "foo", "--package=", "--package", "bar"]).packages == ["bar"])
        #expect(try p.main(["--environment=B=2"])["environment"].dict == OrderedDict([("A", "1"), ("B", "2")]))
        #expect(try p.main(["--environment="])["environment"] == .dict(OrderedDict()))
    }

    @Test func emptyScalarAssignmentFallsBackToTheDefault() throws {
        let p = try Project(["mkosi.conf": "[Content]\nWithDocs=no\n", "mkosi.conf.d/x.conf": "[Content]\nWithDocs=\n"])
        #expect(try p.main()["with_docs"] == .bool(true))
    }

    @Test func failedTopLevelMatchSkipsTheWholeDirectory() throws {
        let p = try Project([
            "mkosi.conf": "[Distribution]\nDistribution=debian\n",
            "mkosi.conf.d/sub/mkosi.conf": "[Match]\nDistribution=fedora\n[Content]\nPackages=no\n",
            "mkosi.conf.d/sub/mkosi.conf.d/x.conf": "[Content]\nPackages=also-no\n",
            "mkosi.conf.d/sub/mkosi.extra/x": "",
        ])
        let c = try p.main()
        #expect(c.packages == [])
        #expect(c["extra_trees"] == .list([]))
    }

    @Test func assertionsAbort() throws {
        let p = try Project(["mkosi.conf": "[Assert]\nDistribution=fedora\n"])
        #expect(errorMessage { _ = try p.main(["-d", "debian"]) }?.contains("in [Assert] section was not satisfied") == true)
        #expect(try p.main(["-d", "fedora"]).distribution == .fedora)
    }

    @Test func relativePathsResolveAgainstTheNearestMkosiConf() throws {
        let p = try Project([
            "mkosi.conf": "",
            "foo/x": "", "mkosi.conf.d/sub/foo/x": "",
            "mkosi.conf.d/10.conf": "[Content]\nExtraTrees=foo\n",
            "mkosi.conf.d/sub/mkosi.conf": "[Content]\nExtraTrees=foo\n",
        ])
        #expect(try p.main()["extra_trees"].trees.map(\.source) == [p.dir + "/foo", p.dir + "/mkosi.conf.d/sub/foo"])
    }

    @Test func specifiers() throws {
        let p = try Project([
            "mkosi.conf": "[Distribution]\nDistribution=fedora\n[Build]\nEnvironment=D=%d F=%F P=%P C=%C I=%I pct=%% x=%\n",
            "mkosi.conf.d/abc.conf": "[Build]\nEnvironment=C2=%C P2=%P\n",
            "mkosi.conf.d/sub/mkosi.conf": "[Build]\nEnvironment=C3=%C P3=%P\n",
        ])
        let env = try p.main()["environment"].dict!
        #expect(env["D"] == "fedora")
        #expect(env["F"] == "btrfs")
        #expect(env["P"] == p.dir && env["C"] == p.dir && env["I"] == "main")
        #expect(env["pct"] == "%" && env["x"] == "%")
        #expect(env["C2"] == p.dir + "/mkosi.conf.d" && env["P2"] == p.dir)
        #expect(env["C3"] == p.dir + "/mkosi.conf.d/sub" && env["P3"] == p.dir + "/mkosi.conf.d/sub")
    }

    @Test func unsetSpecifierWarnsAndExpandsToNothing() throws {
        let p = try Project(["mkosi.conf": "[Build]\nEnvironment=V=%v\n"])
        let (config, warnings) = try Log.capturing { try p.main() }
        #expect(config["environment"].dict?["V"] == "")
        #expect(warnings.contains { $0.contains("specifier '%v'") })
    }

    @Test func subimagesGetUniversalValuesAndMayOverrideInherited() throws {
        let p = try Project([
            "mkosi.conf": "[Distribution]\nDistribution=debian\nRelease=trixie\n[Output]\nImageVersion=5\n[Content]\nPackages=main\n",
            "mkosi.images/a/mkosi.conf": "[Output]\nImageVersion=7\n",
            "mkosi.images/b.conf": "[Output]\nFormat=tar\n",
        ])
        let images = try p.load().images
        #expect(images.map(\.image) == ["a", "b", "main"])
        #expect(images[0]["image_version"] == .string("7"))
        #expect(images[1]["image_version"] == .string("5"))
        #expect(images.allSatisfy { $0.release == "trixie" })
        #expect(images[0].packages == [] && images[2].packages == ["main"])
        #expect(images[2].dependencies == ["a", "b"])
    }

    @Test(arguments: [
        ("[Distribution]\nRelease=sid\n", "Setting Release cannot be configured in a image"),
        ("[Runtime]\nRAM=1G\n", "Setting RAM cannot be configured in a image"),
        ("[Match]\nRAM=1G\n", "RAM cannot be used in [Match]"),
    ])
    func subimageScopeErrors(_ conf: String, _ message: String) throws {
        let p = try Project(["mkosi.conf": "", "mkosi.images/a/mkosi.conf": conf])
        let error = errorMessage { _ = try p.load() }
        #expect(error?.contains(message) == true, "\(error ?? "no error")")
        #expect(error?.contains("mkosi.images/a/mkosi.conf:2") == true)
    }

    @Test func dependencyOrderAndErrors() throws {
        let p = try Project([
            "mkosi.conf": "[Config]\nDependencies=a\n",
            "mkosi.images/a/mkosi.conf": "[Config]\nDependencies=b\n",
            "mkosi.images/b/mkosi.conf": "",
            "mkosi.images/c/mkosi.conf": "",
        ])
        #expect(try p.load().images.map(\.image) == ["b", "a", "main"])
        try p.write("mkosi.images/b/mkosi.conf", "[Config]\nDependencies=a\n")
        #expect(errorMessage { _ = try p.load() }?.contains("Image dependency cycle detected") == true)
        try p.write("mkosi.images/b/mkosi.conf", "[Config]\nDependencies=nope\n")
        #expect(errorMessage { _ = try p.load() }?.contains("no image is named nope") == true)
    }

    @Test func defaultInitrdIsAddedForBootableImages() throws {
        let p = try Project(["mkosi.conf": "[Distribution]\nDistribution=debian\nRelease=trixie\n[Content]\nPackages=linux-image-amd64\nInitrdPackages=extra\n"])
        let images = try p.load().images
        #expect(images.map(\.image) == ["default-initrd", "main"])
        #expect(images[0].format == .cpio && images[0].packages.contains("extra"))
        #expect(images[1].initrds == [p.dir + "/initrd"])
        #expect(images[1].dependencies == ["default-initrd"])
    }

    @Test func toolsTreeImage() throws {
        let p = try Project(["mkosi.conf": "[Build]\nToolsTree=default\nToolsTreeDistribution=debian\nToolsTreeRelease=trixie\nToolsTreePackages=extra\n"])
        let loaded = try p.load()
        let tools = try #require(loaded.tools)
        #expect(tools.image == "tools" && tools.format == .directory && tools.release == "trixie")
        #expect(tools.packages.contains("extra") && tools.packages.contains("systemd-repart"))
        #expect(loaded.main?.toolsTree == p.dir + "/mkosi.tools")
    }

    @Test func configurationInMkosiSubdirectory() throws {
        let p = try Project(["mkosi/mkosi.conf": "[Content]\nPackages=x\n"])
        #expect(try p.main().packages == ["x"])
        try p.write("mkosi.conf", "[Content]\nPackages=top\n")
        #expect(try p.main().packages == ["top"])
    }

    @Test func unknownSettingsWarnAndWrongSectionsWarn() throws {
        let p = try Project(["mkosi.conf": "[Content]\nNoSuchSetting=1\n[Build]\nPackages=x\n"])
        let (c, warnings) = try Log.capturing { try p.main() }
        #expect(c.packages == ["x"])
        #expect(warnings.contains { $0.contains("Unknown setting NoSuchSetting") })
        #expect(warnings.contains { $0.contains("should be configured in [Content], not [Build]") })
    }

    @Test func errorsNameFileLineAndSetting() throws {
        let p = try Project(["mkosi.conf": "[Content]\n\nWithDocs=maybe\n"])
        #expect(errorMessage { _ = try p.main() } == "\(p.dir)/mkosi.conf:3: Setting WithDocs: Invalid boolean literal: 'maybe'")
    }

    @Test func includesAreParsedOnceAtTheirPosition() throws {
        let p = try Project([
            "mkosi.conf": "[Include]\nInclude=inc.conf\nInclude=inc.conf\n[Content]\nPackages=after\n",
            "inc.conf": "[Content]\nPackages=included\n",
        ])
        let c = try p.main()
        #expect(c.packages == ["after", "included"])
        #expect(c.files == [p.dir + "/mkosi.conf", p.dir + "/inc.conf"])
    }

    @Test func originsAreTracked() throws {
        let p = try Project(["mkosi.conf": "[Content]\nPackages=a\n", "mkosi.extra/x": ""])
        let c = try p.main(["-p", "b"])
        #expect(c.origins["packages"] == [.file(path: p.dir + "/mkosi.conf", line: 2), .commandLine(option: "-p")])
        #expect(c.origins["extra_trees"] == [.autoFile(path: p.dir + "/mkosi.extra")])
        #expect(c.origins["with_docs"] == [.defaultValue])
    }
}
