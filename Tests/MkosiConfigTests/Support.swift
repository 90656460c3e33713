import Foundation
@testable import MkosiConfig
import MkosiCore

/// A scratch project directory for one test, removed when the test ends.
final class Project {
    let dir: String

    init(_ files: [String: String] = [:]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mkosi-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (path, content) in files { try write(path, content) }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    func write(_ path: String, _ content: String, mode: Int? = nil) throws {
        let full = dir + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try content.write(toFile: full, atomically: true, encoding: .utf8)
        let m = mode ?? (content.hasPrefix("#!") ? 0o755 : 0o644)
        try FileManager.default.setAttributes([.posixPermissions: m], ofItemAtPath: full)
    }

    /// Parses the project like `mkosi ARGS` run in it.
    func load(_ args: [String] = ["summary"]) throws -> LoadedConfiguration {
        try ConfigLoader.load(args, cwd: dir, resources: testResources)
    }

    func main(_ args: [String] = ["summary"]) throws -> Config {
        try load(args).images.last!
    }
}

/// The repository's `Resources/` directory, so tests do not write to the cache.
let testResources: BuiltinResources = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return BuiltinResources(override: url.appendingPathComponent("Resources").path)
}()

let env = ParseEnvironment(cwd: "/")

func parse(_ p: ValueParser, _ values: [String?], cwd: String = "/") throws -> Value {
    var v: Value? = nil
    for value in values { v = try p.parse(value, old: v, env: ParseEnvironment(cwd: cwd)) }
    return v ?? .null
}

func strings(_ v: Value) -> [String] { v.strings }

/// The message of the MkosiError thrown by `body`, or nil.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let e as MkosiError {
        return e.description
    } catch {
        return "\(error)"
    }
}
