import Foundation
@testable import MkosiConfig
import MkosiCore
import Testing

struct HistoryErrorTests {
    /// A damaged history file is reported as before, with the parser's error kept as its cause.
    @Test func aDamagedHistoryKeepsTheParseErrorAsItsCause() throws {
        let project = try Project(["latest.json": "{\"Distribution\": "])
        let path = project.dir + "/latest.json"
        var namespace = Namespace()
        do {
            try History.merge(into: &namespace, from: path)
            Issue.record("a damaged history file was merged")
        } catch let e as MkosiError {
            #expect(e.code == .config && e.hint == "Run with -f to rebuild the image")
            #expect(e.message.hasPrefix("Cannot read \(path): Invalid JSON at offset"))
            guard case .error(let inner)? = e.cause else {
                Issue.record("the cause is \(String(describing: e.cause))")
                return
            }
            #expect(inner.code == .invalidData && e.message.hasSuffix(inner.message))
        }
    }
}
