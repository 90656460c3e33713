@testable import MkosiCore
import Testing

@Suite struct LogLineTests {
    @Test func linesNameTheirImage() {
        #expect(Log.format(.info, "Installing packages", image: "default-initrd", colors: false)
                == "‣ [default-initrd] Installing packages\n")
        #expect(Log.format(.warning, "careful", image: "main", colors: false) == "‣ [main] careful\n")
        #expect(Log.format(.info, "no image yet", image: nil, colors: false) == "‣ no image yet\n")
        // On a terminal the image is blue and the message keeps its level's colour.
        #expect(Log.format(.error, "bad", image: "main", colors: true)
                == "‣ \u{1B}[0;94m[main]\u{1B}[0m \u{1B}[31;1mbad\u{1B}[0m\n")
    }

    @Test func theImageComesFromTheTask() {
        #expect(Log.image == nil)
        Log.$image.withValue("tools") { #expect(Log.image == "tools") }
        #expect(Log.image == nil)
    }

    @Test func durationsAreShort() {
        #expect(Log.formatDuration(0) == "0.0s")
        #expect(Log.formatDuration(0.04) == "0.0s")
        #expect(Log.formatDuration(12.34) == "12.3s")
        #expect(Log.formatDuration(59.94) == "59.9s")
        #expect(Log.formatDuration(59.96) == "1m 0s")
        #expect(Log.formatDuration(134) == "2m 14s")
        #expect(Log.formatDuration(3600 + 5 * 60 + 0.4) == "1h 5m 0s")
        #expect(Log.stepTook("Installing packages", 12.34) == "Installing packages took 12.3s")
    }
}

@Suite struct StepLogTests {
    @Test func aStepsTitleComesBeforeItsFirstToolOnce() {
        let (_, lines) = Log.capturing {
            Log.inStep("Removing packages") {
                Log.announceStep()
                Log.announceStep()
            }
        }
        #expect(lines == ["Removing packages"])
    }

    @Test func aStepsFirstMessageStandsInForItsTitle() {
        let (_, lines) = Log.capturing {
            Log.inStep("Applying first boot settings") {
                Log.info("Applying first boot settings to the image")
                Log.announceStep()
            }
        }
        #expect(lines == ["Applying first boot settings to the image"])
    }

    @Test func aWarningComesBelowItsStep() {
        let (_, lines) = Log.capturing {
            Log.inStep("Installing packages") { Log.warning("careful") }
        }
        #expect(lines == ["Installing packages", "careful"])
    }

    @Test func aStepThatShowsNothingPrintsNothing() {
        let (_, lines) = Log.capturing {
            Log.inStep("Running sync scripts") {}
            Log.announceStep()
        }
        #expect(lines.isEmpty)
    }

    @Test func aToolAnnouncesTheStepBeforeItRuns() throws {
        let (_, lines) = try Log.capturing {
            try Log.inStep("Running true") { try HostCommand.run(["true"]) }
        }
        // Another test of this process may have turned on --debug (a global): its `+ true`
        // line is not what this test is about.
        #expect(lines.filter { !$0.hasPrefix("+ ") } == ["Running true"])
    }
}

@Suite struct ProgressFilterTests {
    @Test func keepsOnlyTheLastDrawingOfALine() {
        #expect(ProgressFilter.filter("10%\r50%\r100%\n") == "100%\n")
        #expect(ProgressFilter.filter("a\nb\r\nc\rd\r\n") == "a\nb\nd\n")
        // A progress bar that ends with a carriage return keeps its last drawing.
        #expect(ProgressFilter.filter("[#  ]\r[## ]\r[###]\r\ndone\n") == "[###]\ndone\n")
        #expect(ProgressFilter.filter("plain\nlines\n") == "plain\nlines\n")
        #expect(ProgressFilter.filter("") == "")
    }

    @Test func anUnterminatedLastLineIsEnded() {
        #expect(ProgressFilter.filter("1/3\r3/3") == "3/3\n")
        #expect(ProgressFilter.filter("\r\r") == "")
    }

    @Test func linesSplitAcrossReadsAreWholeAgain() {
        var f = ProgressFilter()
        var out = f.feed(Array("a 1%\ra 5".utf8))
        #expect(out.isEmpty)
        out += f.feed(Array("0%\ra 100%\nb\n".utf8))
        out += f.finish()
        #expect(String(decoding: out, as: UTF8.self) == "a 100%\nb\n")
    }

    @Test func aHugeRedrawnLineStaysSmall() {
        var f = ProgressFilter()
        var out: [UInt8] = []
        for i in 0..<20_000 { out += f.feed(Array("\rCopying \(i)/20000".utf8)) }
        out += f.feed(Array("\n".utf8))
        #expect(String(decoding: out, as: UTF8.self) == "Copying 19999/20000\n")
        #expect(!out.contains(UInt8(ascii: "\r")))
    }

    @Test func aFailingToolsKeptOutputIsFilteredAndOnlyFailuresShowIt() {
        var router = ToolOutput.Router(.onFailure)
        router.take(Array("step 1\r step 2\nerror: it broke\n".utf8)[...])
        #expect(String(decoding: router.kept, as: UTF8.self) == " step 2\nerror: it broke\n")
        router.finish(failed: false)
        #expect(router.kept.isEmpty)
    }

    @Test func toolsWriteDirectlyOutsideABuild() {
        #expect(ToolOutput.current == .inherit)
        #expect(!ToolOutput.inherit.isRouted)
        #expect(ToolOutput.onFailure.isRouted)
        ToolOutput.$current.withValue(.onFailure) {
            ToolOutput.showing { #expect(ToolOutput.current == .shown) }
            #expect(ToolOutput.current == .onFailure)
        }
        ToolOutput.showing { #expect(ToolOutput.current == .inherit) }
    }

    @Test func aQuietToolsOutputIsKeptAndItsFailureStillThrows() throws {
        // The output of a failing tool goes to standard error (not checked here); what matters
        // is that routing it changes neither the exit status nor captured standard output.
        try ToolOutput.$current.withValue(.onFailure) {
            #expect(throws: MkosiError.self) {
                try HostCommand.run(["sh", "-c", "echo noise; echo broken >&2; exit 3"])
            }
            let status = try HostCommand.run(["sh", "-c", "printf '1\\r2\\n'; exit 4"], check: false)
            #expect(status == 4)
            let r = try HostCommand.capture(["sh", "-c", "echo out; echo err >&2"])
            #expect(r.output == "out\n")
        }
    }
}
