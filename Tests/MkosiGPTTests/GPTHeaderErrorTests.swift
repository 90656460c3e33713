#if canImport(Glibc)
import Glibc
#endif
import MkosiCore
@testable import MkosiGPT
import Testing

/// A file without a GPT is invalid data; a file that cannot be opened is the system's error.
struct GPTHeaderErrorTests {
    @Test func aDiskWithoutAGPTIsInvalidData() throws {
        let dir = try FS.makeTemporaryDirectory(in: "/tmp", prefix: "gpt-error-test")
        defer { FS.removeTree(dir) }
        let image = dir + "/blank.raw"
        try FS.writeAtomically(image, [UInt8](repeating: 0, count: 8192))
        for call in [{ _ = try GPTHeader.diskGUID(image) }, { try GPTHeader.setDiskGUID(image, [UInt8](repeating: 1, count: 16)) }]
            as [() throws -> Void] {
            do {
                try call()
                Issue.record("a blank file was taken for a GPT disk")
            } catch let e as MkosiError {
                #expect(e.code == .invalidData && e.message == "\(image) has no GPT partition table")
            }
        }
        do {
            _ = try GPTHeader.diskGUID(dir + "/missing.raw")
            Issue.record("a missing file was read")
        } catch let e as MkosiError {
            #expect(e.code == .system(errno: ENOENT))
        }
    }
}
