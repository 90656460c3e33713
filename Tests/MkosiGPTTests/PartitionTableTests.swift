#if canImport(Glibc)
import Glibc
#endif
import MkosiCore
@testable import MkosiGPT
import Testing

struct PartitionTableTests {
    @Test func crc32IsTheGPTOne() {
        #expect(GPTHeader.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(GPTHeader.crc32([]) == 0)
    }

    @Test func repartsJSONGivesTypesUUIDsAndRootHashes() throws {
        let json = """
        [{"type":"esp","uuid":"11111111-2222-3333-4444-555555555555","partno":0,"roothash":"-","split_path":"-"},
         {"type":"root-x86-64","uuid":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","partno":1,"roothash":"abcd","split_path":"/x/root.raw"},
         {"type":"root-x86-64-verity","uuid":"","partno":2,"roothash":"TBD","split_path":"-"}]
        """
        let partitions = try PartitionTable.parse(json)
        #expect(partitions.map(\.type) == ["esp", "root-x86-64", "root-x86-64-verity"])
        #expect(partitions[1].number == 1 && partitions[1].splitPath == "/x/root.raw" && partitions[0].splitPath == nil)
        #expect(partitions[2].roothash == nil)
        #expect(PartitionTable.verityArgument(partitions) == "roothash=abcd")
        #expect(PartitionTable.verityArgument([partitions[0]]) == nil)
    }

    @Test func anythingButAnArrayIsInvalidData() {
        #expect(throws: MkosiError.self) { try PartitionTable.parse("{}") }
        do { _ = try PartitionTable.parse("{}") } catch let e as MkosiError { #expect(e.code == .invalidData) } catch {}
    }

    /// A GPT disk written by sfdisk: the root partition's offset and size come from its entry.
    @Test func rootPartitionIsReadFromTheGPT() throws {
        let dir = try FS.makeTemporaryDirectory(in: "/tmp", prefix: "gpt-test")
        defer { FS.removeTree(dir) }
        let image = dir + "/disk.raw"
        try HostCommand.run(["truncate", "--size=8M", image])
        let script = dir + "/layout"
        try FS.writeAtomically(script, "label: gpt\nstart=2048, size=4096, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=6144, size=8192, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709\n")
        try HostCommand.capture(["sfdisk", "--quiet", image], inputFile: script)
        let root = try #require(try PartitionTable.rootPartition(of: image))
        #expect(root.offset == 6144 * 512 && root.size == 8192 * 512)
        #expect(try PartitionTable.rootPartition(of: script) == nil)
    }
}
