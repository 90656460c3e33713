import Testing
@testable import MkosiCore

struct ServiceManagerTests {
    /// systemd reads a user unit from a cgroup path after leading slices, so the scope may only
    /// go below the cgroup root or slices.
    @Test func userScopesGoWhereSystemdReadsAUnitFromThem() {
        #expect(ServiceManager.UserScope.components(current: "/", uid: 0, name: "mkosi-vmspawn-7")
            == ["user@0.service", "mkosi-vmspawn-7.scope"])
        #expect(ServiceManager.UserScope.components(current: "/machine.slice/ci.slice", uid: 1000, name: "x")
            == ["user@1000.service", "x.scope"])
        #expect(ServiceManager.UserScope.components(current: "/docker/0123abcd", uid: 0, name: "x") == nil)
        #expect(ServiceManager.UserScope.components(current: "/system.slice/ssh.service", uid: 0, name: "x") == nil)
    }
}
