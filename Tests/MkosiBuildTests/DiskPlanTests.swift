import Testing
@testable import MkosiBuild
@testable import MkosiConfig

/// What systemd-repart is told beyond the partition definitions without a setting, as upstream.
struct DiskPlanTests {
    /// The image's fstab and crypttab come from systemd-repart 256 and newer; 258 keeps what an
    /// existing fstab holds.
    @Test func fstabAndCrypttabFromRepart() {
        #expect(Disk.tabArguments(repartVersion: 255).isEmpty)
        #expect(Disk.tabArguments(repartVersion: 0).isEmpty)
        #expect(Disk.tabArguments(repartVersion: 257) == ["--generate-fstab=/etc/fstab", "--generate-crypttab=/etc/crypttab"])
        #expect(Disk.tabArguments(repartVersion: 258) == ["--generate-fstab=/etc/fstab", "--generate-crypttab=/etc/crypttab",
                                                          "--append-fstab=auto"])
    }

    /// ext4 without orphan_file for CentOS Stream 9 and Ubuntu jammy guests made with tools whose
    /// mkfs.ext4 turns it on; not when Environment= sets the options itself.
    @Test func orphanFileOffForOldGuestKernels() {
        let trixie = HostDistribution(distribution: .debian, id: nil, release: "trixie")
        let off = ["SYSTEMD_REPART_MKFS_OPTIONS_EXT4": "-O ^orphan_file"]
        #expect(Disk.mkfsEnvironment(target: .ubuntu, release: "jammy", tools: trixie, configured: []) == off)
        #expect(Disk.mkfsEnvironment(target: .centos, release: "9", tools: trixie, configured: []) == off)
        // An unknown tools distribution is taken as one whose mkfs makes orphan files.
        let unknown = HostDistribution(distribution: nil, id: "nixos", release: nil)
        #expect(Disk.mkfsEnvironment(target: .ubuntu, release: "jammy", tools: unknown, configured: []) == off)

        #expect(Disk.mkfsEnvironment(target: .ubuntu, release: "noble", tools: trixie, configured: []).isEmpty)
        #expect(Disk.mkfsEnvironment(target: .centos, release: "10", tools: trixie, configured: []).isEmpty)
        #expect(Disk.mkfsEnvironment(target: .debian, release: "trixie", tools: trixie, configured: []).isEmpty)
        // Tools that are old guests themselves make no orphan files.
        let jammy = HostDistribution(distribution: .ubuntu, id: nil, release: "jammy")
        #expect(Disk.mkfsEnvironment(target: .ubuntu, release: "jammy", tools: jammy, configured: []).isEmpty)
        let own = [("SYSTEMD_REPART_MKFS_OPTIONS_EXT4", "-E lazy_itable_init=1")]
        #expect(Disk.mkfsEnvironment(target: .ubuntu, release: "jammy", tools: trixie, configured: own).isEmpty)
    }
}
