import Foundation
import TestSupport

/// Runs one configuration case the way `Tests/Fixtures/README.md` describes: copy the case folder
/// to a scratch folder of the same name, with the modes git records (0644, or 0755 where
/// executable, whatever the checkout's umask), run `mkosi [case.args] --json summary` in it, and
/// compare with `case.expected.json` (or check the failure for `case.expected-error`).
struct ConfigCaseRunner {
    let binary: String

    struct Outcome {
        var problems: [String]
    }

    /// Runs the case in `caseDir`; returns the list of differences (empty when it passes).
    func run(caseDir: String) throws -> Outcome {
        let fm = FileManager.default
        let name = URL(fileURLWithPath: caseDir).lastPathComponent
        let scratchRoot = fm.temporaryDirectory.appendingPathComponent("mkosi-conformance-\(UUID().uuidString)")
        let scratch = scratchRoot.appendingPathComponent(name).path
        try fm.createDirectory(at: scratchRoot, withIntermediateDirectories: true)
        defer {
            _ = try? Shell.run(["chmod", "-R", "u+w", scratchRoot.path])
            try? fm.removeItem(at: scratchRoot)
        }
        _ = try Shell.run(["cp", "-a", caseDir, scratch])
        // The cases were recorded with git's modes: a key file readable by others must stay so
        // (it is refused), also in a checkout made with umask 077.
        _ = try Shell.run(["chmod", "-R", "u+w,go-w,a+rX", scratch])

        var args: [String] = []
        let argsFile = scratch + "/case.args"
        if let text = try? String(contentsOfFile: argsFile, encoding: .utf8) {
            args = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if args.last == "" { args.removeLast() }
        }
        var env = ProcessInfo.processInfo.environment
        for key in ["SOURCE_DATE_EPOCH", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy",
                    "NO_PROXY", "MKOSI_HOST_DISTRIBUTION", "MKOSI_HOST_RELEASE", "SYSTEMD_LOG_LEVEL"] {
            env[key] = nil
        }
        let result = try Shell.run([binary] + args + ["--json", "summary"], cwd: scratch, environment: env)
        var problems: [String] = []

        if fm.fileExists(atPath: scratch + "/case.expected-error") {
            if result.status == 0 { problems.append("expected a failure, but mkosi exited 0") }
            if !result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                problems.append("expected no output on a failure, got \(result.stdout.prefix(200))")
            }
            if result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                problems.append("expected an error message on standard error")
            }
            for crash in ["Traceback", "Fatal error", "Stack dump", "backtrace"] where result.stderr.contains(crash) {
                problems.append("the failure crashed: \(result.stderr.prefix(300))")
            }
            return Outcome(problems: problems)
        }

        guard result.status == 0 else {
            return Outcome(problems: ["mkosi exited \(result.status): \(result.stderr.suffix(500))"])
        }
        if fm.fileExists(atPath: scratch + "/case.expected-warnings"), !result.stderr.contains("‣") {
            problems.append("expected a warning on standard error, got none")
        }
        let ours = result.stdout.replacingOccurrences(of: scratch, with: "@CASE@")
        let expectedText = try String(contentsOfFile: scratch + "/case.expected.json", encoding: .utf8)
        let got = try JSONSerialization.jsonObject(with: Data(ours.utf8), options: [.fragmentsAllowed])
        let want = try JSONSerialization.jsonObject(with: Data(expectedText.utf8), options: [.fragmentsAllowed])
        problems += JSONDiff.differences(got, want, path: "")
        return Outcome(problems: problems)
    }
}

/// Structural comparison of parsed JSON, where the expected string `@ANY@` matches anything.
enum JSONDiff {
    static func differences(_ got: Any, _ want: Any, path: String) -> [String] {
        if let w = want as? String, w == "@ANY@" { return [] }
        switch (got, want) {
        case (let g as [String: Any], let w as [String: Any]):
            var out: [String] = []
            for key in Set(g.keys).union(w.keys).sorted() {
                let p = path.isEmpty ? key : "\(path).\(key)"
                switch (g[key], w[key]) {
                case (nil, _): out.append("\(p): missing")
                case (_, nil): out.append("\(p): unexpected key")
                case (let x?, let y?): out += differences(x, y, path: p)
                }
            }
            return out
        case (let g as [Any], let w as [Any]):
            guard g.count == w.count else {
                return ["\(path): got \(render(g)), expected \(render(w))"]
            }
            return zip(g, w).enumerated().flatMap { differences($1.0, $1.1, path: "\(path)[\($0)]") }
        default:
            return render(got) == render(want) ? [] : ["\(path): got \(render(got)), expected \(render(want))"]
        }
    }

    static func render(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if let data = try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed, .sortedKeys]),
           let s = String(data: data, encoding: .utf8) {
            return s.count > 300 ? String(s.prefix(300)) + "…" : s
        }
        return "\(v)"
    }
}

