import MkosiCore
import Testing

@Suite struct PrivilegesTests {
    typealias R = Privileges.IDRange

    @Test func subordinateMapsFollowUpstreamsLayout() {
        let maps = Privileges.maps(start: 100_000, hostID: 1001)
        #expect(maps == [R(inside: 0, outside: 100_000, count: 65436), R(inside: 65436, outside: 1001, count: 1),
                         R(inside: 65437, outside: 165_437, count: 99)])
        #expect(maps.reduce(0) { $0 + $1.count } == 65536)
        #expect(maps[1].arguments == ["65436", "1001", "1"])
    }

    @Test func subordinateRangesAreFoundByNameOrIDAndMustBeLargeEnough() {
        let text = "alice:100000:65536\n# comment\nbob:200000:1000\n1003:300000:70000\nbob:400000:65536\n"
        #expect(Privileges.subordinateStart(in: text, user: "alice", id: 1001) == 100_000)
        // Too small a range is skipped, a later large-enough entry is taken.
        #expect(Privileges.subordinateStart(in: text, user: "bob", id: 1002) == 400_000)
        #expect(Privileges.subordinateStart(in: text, user: "carol", id: 1003) == 300_000)
        #expect(Privileges.subordinateStart(in: text, user: "dave", id: 1004) == nil)
        #expect(Privileges.subordinateStart(in: "", user: "alice", id: 1001) == nil)
    }

    @Test func identityFromTheMaps() {
        let initial = [R(inside: 0, outside: 0, count: UInt32.max)]
        let root = Privileges.identity(uidMap: initial, gidMap: initial, uid: 0, gid: 0)
        #expect(root.mode == .hostRoot && root.initialNamespace)
        let user = Privileges.identity(uidMap: initial, gidMap: initial, uid: 1001, gid: 1001)
        #expect(user.mode == .singleUser && user.hostUID == 1001 && user.initialNamespace)

        let uidMap = Privileges.maps(start: 100_000, hostID: 1001), gidMap = Privileges.maps(start: 200_000, hostID: 1005)
        let sub = Privileges.identity(uidMap: uidMap, gidMap: gidMap, uid: 0, gid: 0)
        #expect(sub.mode == .subordinateRange && !sub.initialNamespace)
        #expect(sub.hostUID == 1001 && sub.hostGID == 1005 && sub.invokingUID == 65436 && sub.invokingGID == 65436)

        // A sandbox's one-ID namespace: root inside, the user outside, ownership flattened.
        let single = Privileges.identity(uidMap: [R(inside: 0, outside: 1001, count: 1)], gidMap: [R(inside: 0, outside: 1001, count: 1)], uid: 0, gid: 0)
        #expect(single.mode == .singleUser && single.hostUID == 1001 && !single.initialNamespace)
    }

    @Test func mapsParseFromProc() {
        #expect(Privileges.parseMap("         0     100000      65436\n     65436       1001          1\n")
                == [R(inside: 0, outside: 100_000, count: 65436), R(inside: 65436, outside: 1001, count: 1)])
    }
}
