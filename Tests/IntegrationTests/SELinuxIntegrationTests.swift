import Foundation
import Testing
import TestSupport

/// `SELinuxRelabel=yes` on a Debian image with the reference policy: every file gets its
/// `security.selinux` label from the image's policy (the host needs no SELinux; ext4 and tmpfs
/// store the attribute as is). Part of the serialized `BuildIntegrationTests`.
extension BuildIntegrationTests {
    /// The `security.selinux` attribute of `path`, without its trailing NUL (read with python3:
    /// Glibc's module does not export the xattr calls).
    static func selinuxLabel(_ path: String) -> String? {
        let r = try? Shell.run(["python3", "-c", "import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], 'security.selinux', "
                                + "follow_symlinks=False).rstrip(b'\\0').decode())", path])
        return r?.status == 0 ? r?.stdout : nil
    }

    @Test func selinuxRelabelLabelsTheImageWithItsPolicy() throws {
        let p = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nPackages=selinux-policy-default\n"
                + "SELinuxRelabel=yes\n[Build]\nToolsTree=\(Self.toolsTree)\n",
        ])
        let r = try Shell.run([mkosi, "build"], cwd: p.dir)
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("Relabeling files using default policy"), "\(r.stderr.suffix(2000))")
        let image = p.dir + "/image"
        #expect(Self.selinuxLabel(image + "/etc/passwd") == "system_u:object_r:etc_t:s0")
        #expect(Self.selinuxLabel(image + "/usr/bin/bash") == "system_u:object_r:shell_exec_t:s0")
        #expect(Self.selinuxLabel(image + "/var/log") == "system_u:object_r:var_log_t:s0")

        // Without a policy in the image, yes is an error (auto would go on).
        let q = try Project([
            "mkosi.conf": Self.base + "[Output]\nFormat=directory\n[Content]\nSELinuxRelabel=yes\n[Build]\nToolsTree=\(Self.toolsTree)\n",
        ])
        let failed = try Shell.run([mkosi, "build"], cwd: q.dir)
        #expect(failed.status == 1 && failed.stderr.contains("SELinux relabel is requested but could not find selinux config"),
                "\(failed.stderr.suffix(2000))")
    }
}
