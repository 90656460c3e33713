import MkosiBuild
import Testing

@Suite struct BuildSummaryTests {
    @Test func sizesInBinaryUnits() {
        #expect(BuildSummary.formatSize(12) == "12 B")
        #expect(BuildSummary.formatSize(1024) == "1.0 KiB")
        #expect(BuildSummary.formatSize(340 * 1024 + 10) == "340.0 KiB")
        #expect(BuildSummary.formatSize(1_288_490_189) == "1.2 GiB")
        #expect(BuildSummary.formatSize(1024 * 1024 - 1) == "1.0 MiB")
    }

    @Test func theEndOfAnImageNamesOutputSizeAndTime() {
        #expect(BuildSummary.wroteLine("hello.raw", size: 1_288_490_189, seconds: 134) == "Wrote hello.raw (1.2 GiB) in 2m 14s")
        #expect(BuildSummary.wroteLine("image", size: nil, seconds: 3.21) == "Wrote image in 3.2s")
        #expect(BuildSummary.finishedLine(images: 3, output: "hello.raw", size: 2048, seconds: 302)
                == "Built 3 images in 5m 2s: hello.raw (2.0 KiB)")
        #expect(BuildSummary.finishedLine(images: 1, output: nil, size: nil, seconds: 1) == "Built 1 image in 1.0s")
    }

    @Test func outputsBelowTheWorkingDirectoryAreNamedRelatively() {
        #expect(BuildSummary.displayPath("/src/hello/hello.raw", cwd: "/src/hello") == "hello.raw")
        #expect(BuildSummary.displayPath("/src/hello/out/hello.raw", cwd: "/src/hello") == "out/hello.raw")
        #expect(BuildSummary.displayPath("/var/out/hello.raw", cwd: "/src/hello") == "/var/out/hello.raw")
    }

    @Test func theToolsGetMkosisSystemdLogVariablesOnly() {
        let host = ["SYSTEMD_LOG_LEVEL": "debug", "SYSTEMD_LOG_LOCATION": "1", "SYSTEMD_LOG_COLOR": "0", "HOME": "/root"]
        #expect(BuildContext.forwardedVariables { host[$0] } == ["SYSTEMD_LOG_LEVEL": "debug", "SYSTEMD_LOG_LOCATION": "1"])
        #expect(BuildContext.forwardedVariables { _ in nil } == [:])
    }
}
