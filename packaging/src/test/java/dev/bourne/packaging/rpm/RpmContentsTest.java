package dev.bourne.packaging.rpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.packaging.PackagingTool;
import dev.bourne.packaging.Rpms;
import dev.bourne.testing.Exec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What the RPMs hold and declare, read with rpm -qp (files, modes, owners, flags, requires, scriptlets, digests). */
class RpmContentsTest {
    private static final String FILE_FORMAT =
            "[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags}\\n]";

    /** Every path but the jars, with mode, owner and rpm flags (c config, n noreplace, g ghost, d doc). */
    private static final List<String> SERVER_FILES = List.of(
            "/etc/bourne drwxr-x--- root:bourne ",
            "/etc/bourne/server.conf -rw-r----- root:bourne cn",
            "/etc/sysconfig/bourne-server -rw-r--r-- root:root cn",
            "/run/bourne drwxr-xr-x root:root g",
            "/run/bourne/server drwxr-xr-x root:root g",
            "/run/bourne/server/private drwxr-x--- bourne-server:bourne g",
            "/usr/bin/bourne-server -rwxr-xr-x root:root ",
            "/usr/lib/systemd/system/bourne-server.service -rw-r--r-- root:root ",
            "/usr/lib/sysusers.d/bourne-server.conf -rw-r--r-- root:root ",
            "/usr/lib/tmpfiles.d/bourne-server.conf -rw-r--r-- root:root ",
            "/usr/share/bourne drwxr-xr-x root:root ",
            "/usr/share/bourne/server drwxr-xr-x root:root ",
            "/usr/share/doc/bourne-server drwxr-xr-x root:root ",
            "/usr/share/doc/bourne-server/README.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-server/README.packaging.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-server/ca-and-hsm.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-server/cli.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-server/configuration.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-server/datastore.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-server/install.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-server/server.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-server/tpm.md -rw-r--r-- root:root d",
            "/var/lib/bourne drwxr-xr-x root:root ",
            "/var/lib/bourne/server drwxr-x--- bourne-server:bourne ");

    private static final List<String> AGENT_FILES = List.of(
            "/etc/bourne drwxr-x--- root:bourne ",
            "/etc/bourne/agent.conf -rw-r----- root:bourne cn",
            "/etc/sysconfig/bourne-agent -rw-r--r-- root:root cn",
            "/run/bourne drwxr-xr-x root:root g",
            "/run/bourne/agent drwxr-xr-x root:root g",
            "/run/bourne/agent/public drwxr-xr-x bourne-agent:bourne-agent g",
            "/usr/bin/bourne-agent -rwxr-xr-x root:root ",
            "/usr/lib/systemd/system/bourne-agent.service -rw-r--r-- root:root ",
            "/usr/lib/sysusers.d/bourne-agent.conf -rw-r--r-- root:root ",
            "/usr/lib/tmpfiles.d/bourne-agent.conf -rw-r--r-- root:root ",
            "/usr/share/bourne drwxr-xr-x root:root ",
            "/usr/share/bourne/agent drwxr-xr-x root:root ",
            "/usr/share/doc/bourne-agent drwxr-xr-x root:root ",
            "/usr/share/doc/bourne-agent/README.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-agent/README.packaging.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-agent/agent.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-agent/cli.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-agent/configuration.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-agent/install.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-agent/tpm.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-agent/workload-api.md -rw-r--r-- root:root d",
            "/var/lib/bourne drwxr-xr-x root:root ",
            "/var/lib/bourne/agent drwxr-x--- bourne-agent:bourne-agent ");

    private static final List<String> VENDORDATA_FILES = List.of(
            "/etc/bourne drwxr-x--- root:bourne ",
            "/etc/bourne/vendordata drwxr-x--- root:bourne-vendordata ",
            "/etc/bourne/vendordata.conf -rw-r----- root:bourne cn",
            "/etc/sysconfig/bourne-vendordata -rw-r--r-- root:root cn",
            "/usr/bin/bourne-vendordata -rwxr-xr-x root:root ",
            "/usr/lib/systemd/system/bourne-vendordata.service -rw-r--r-- root:root ",
            "/usr/lib/sysusers.d/bourne-vendordata.conf -rw-r--r-- root:root ",
            "/usr/share/bourne drwxr-xr-x root:root ",
            "/usr/share/bourne/vendordata drwxr-xr-x root:root ",
            "/usr/share/doc/bourne-vendordata drwxr-xr-x root:root ",
            "/usr/share/doc/bourne-vendordata/README.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-vendordata/README.packaging.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-vendordata/ca-and-hsm.md -rw-r--r-- root:root d",
            "/usr/share/doc/bourne-vendordata/openstack.md -rw-r--r-- root:root d",
            "/var/lib/bourne drwxr-xr-x root:root ",
            "/var/lib/bourne/vendordata drwxr-x--- bourne-vendordata:bourne-vendordata ");

    /** Whether this host's rpm defines systemd's RPM macros (RHEL, Fedora) or not (Debian). */
    private static final boolean HOST_HAS_SYSTEMD_MACROS = !eval("%{undefined systemd_post}").strip().equals("1");

    private static final Pattern ENABLE_OR_START = Pattern.compile("systemctl\\s+(--[a-z-]+\\s+)*(enable|start|restart|reenable)\\b");

    @Test
    void server_files_exactlyTheExpectedOnes() throws IOException {
        assertFiles(Rpms.get().server(), SERVER_FILES, "/usr/share/bourne/server/", jarsOf("appliance"));
    }

    @Test
    void agent_files_exactlyTheExpectedOnes() throws IOException {
        assertFiles(Rpms.get().agent(), AGENT_FILES, "/usr/share/bourne/agent/", jarsOf("agent"));
    }

    @Test
    void vendordata_files_exactlyTheExpectedOnes() throws IOException {
        assertFiles(Rpms.get().vendordata(), VENDORDATA_FILES, "/usr/share/bourne/vendordata/",
                jarsOf("openstack-iid"));
    }

    @Test
    void configFiles_areConfigNoreplace() {
        assertEquals("/etc/bourne/server.conf\n/etc/sysconfig/bourne-server\n",
                query(Rpms.get().server(), "-c"));
        assertEquals("/etc/bourne/agent.conf\n/etc/sysconfig/bourne-agent\n", query(Rpms.get().agent(), "-c"));
        assertEquals("/etc/bourne/vendordata.conf\n/etc/sysconfig/bourne-vendordata\n",
                query(Rpms.get().vendordata(), "-c"));
    }

    @Test
    void requires_java17AndSystemdOnly_noGeneratedJarRequires() {
        for (Path rpm : Rpms.get().all()) {
            Set<String> requires = new TreeSet<>(List.of(query(rpm, "--requires").split("\n")));
            String name = rpm.getFileName().toString().replaceFirst("-[0-9].*", "");
            Set<String> expected = new TreeSet<>(Set.of(
                    "jre-headless >= 1:17", "systemd", "/bin/sh", "/usr/bin/bash",
                    "config(" + name + ") = " + query(rpm, "--qf", "%{VERSION}-%{RELEASE}"),
                    "rpmlib(CompressedFileNames) <= 3.0.4-1", "rpmlib(FileDigests) <= 4.6.0-1",
                    "rpmlib(PayloadFilesHavePrefix) <= 4.0-1", "rpmlib(PayloadIsZstd) <= 5.4.18-1"));
            assertEquals(expected, requires, rpm.toString());
            String provides = query(rpm, "--provides");
            assertFalse(provides.contains("osgi(") || provides.contains("mvn("), provides);
        }
    }

    @Test
    void scripts_createUsersAndFollowPresets_neverEnableOrStart() {
        for (String role : List.of("server", "agent", "vendordata")) {
            Path rpm = Rpms.get().all().get(List.of("server", "agent", "vendordata").indexOf(role));
            String scripts = query(rpm, "--scripts");
            String unit = "bourne-" + role + ".service";
            assertTrue(scripts.contains("systemd-sysusers --replace=/usr/lib/sysusers.d/bourne-" + role + ".conf -"),
                    scripts);
            // The %pre here-document is the packaged sysusers.d file, line for line.
            assertTrue(scripts.contains(read("bourne-" + role + ".sysusers").strip()), scripts);
            // The signing service has no runtime directory, hence no tmpfiles.d file.
            assertEquals(!role.equals("vendordata"),
                    scripts.contains("systemd-tmpfiles --create /usr/lib/tmpfiles.d/bourne-" + role + ".conf"), scripts);
            assertFalse(ENABLE_OR_START.matcher(scripts).find(), "a scriptlet enables or starts something:\n"
                    + scripts);
            if (HOST_HAS_SYSTEMD_MACROS) {
                // RHEL, Fedora: the spec uses the real macros (presets through systemd-update-helper or systemctl).
                for (String macro : List.of("systemd_post", "systemd_preun", "systemd_postun_with_restart")) {
                    String expansion = eval("%" + macro + " " + unit).strip();
                    assertTrue(scripts.contains(expansion), macro + " missing:\n" + expansion + "\nin:\n" + scripts);
                }
                continue;
            }
            // Debian: the spec's own bodies, the classic ones of systemd's macros.
            assertTrue(scripts.contains("systemctl --no-reload preset " + unit), scripts);
            assertTrue(scripts.contains("systemctl --no-reload disable --now " + unit), scripts);
            assertTrue(scripts.contains("systemctl try-restart " + unit), scripts);
            // preset only on first installation ($1 == 1), disable only on removal ($1 == 0), restart on upgrade.
            assertTrue(scripts.matches("(?s).*if \\[ \\$1 -eq 1 \\]; then\\s+#[^\\n]*\\s+systemctl --no-reload preset.*"),
                    scripts);
            assertTrue(scripts.matches("(?s).*if \\[ \\$1 -eq 0 \\]; then\\s+#[^\\n]*\\s+systemctl --no-reload disable.*"),
                    scripts);
            assertTrue(scripts.matches("(?s).*if \\[ \\$1 -ge 1 \\]; then\\s+#[^\\n]*\\s+systemctl try-restart.*"),
                    scripts);
        }
    }

    @Test
    void digests_ok() {
        for (Path rpm : Rpms.get().all()) {
            Exec.Result result = Commands.runOk(PackagingTool.RPM, "-K", rpm.toString());
            assertEquals(rpm + ": digests OK", result.stdout().strip());
        }
    }

    @Test
    void version_fromMaven_snapshotRelease() throws IOException {
        String mavenVersion = Files.readAllLines(Rpms.ROOT.resolve("appliance/target/maven-archiver/pom.properties"))
                .stream().filter(l -> l.startsWith("version=")).findFirst().orElseThrow().substring(8);
        for (Path rpm : Rpms.get().all()) {
            String vr = query(rpm, "--qf", "%{VERSION} %{RELEASE} %{ARCH}");
            String dist = eval("%{?dist}").strip();  // .el9 on RHEL 9, nothing on Debian
            if (mavenVersion.endsWith("-SNAPSHOT")) {
                assertEquals(mavenVersion.replace("-SNAPSHOT", "") + " 0.1.snapshot" + dist + " noarch", vr);
            } else {
                assertEquals(mavenVersion + " 1" + dist + " noarch", vr);
            }
        }
    }

    private static void assertFiles(Path rpm, List<String> expected, String jarDir, Set<String> jars) {
        List<String> lines = List.of(query(rpm, "--qf", FILE_FORMAT).split("\n"));
        List<String> others = lines.stream().filter(l -> !l.endsWith(".jar -rw-r--r-- root:root "))
                .collect(Collectors.toList());
        assertEquals(String.join("\n", expected), String.join("\n", others));
        Set<String> packagedJars = lines.stream().filter(l -> l.endsWith(".jar -rw-r--r-- root:root "))
                .map(l -> l.substring(0, l.indexOf(' ')))
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> expectedJars = jars.stream().map(j -> jarDir + j).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(expectedJars, packagedJars);
    }

    /** The module's jar and its runtime dependencies, as Maven built them (bourne-<module>-<version>.jar). */
    private static Set<String> jarsOf(String module) throws IOException {
        Path target = Rpms.ROOT.resolve(module).resolve("target");
        Set<String> jars = new TreeSet<>();
        try (Stream<Path> lib = Files.list(target.resolve("lib"))) {
            lib.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jar")).forEach(jars::add);
        }
        try (Stream<Path> top = Files.list(target)) {
            top.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("bourne-" + module + "-.*\\.jar") && !n.endsWith("-tests.jar")
                            && !n.endsWith("-sources.jar"))
                    .forEach(jars::add);
        }
        assertEquals(true, jars.stream().anyMatch(j -> j.startsWith("bourne-" + module + "-")), jars.toString());
        return jars;
    }

    private static String query(Path rpm, String... args) {
        String[] all = Stream.concat(Stream.of("-qp"), Stream.concat(Stream.of(args), Stream.of(rpm.toString())))
                .toArray(String[]::new);
        return Commands.runOk(PackagingTool.RPM, all).stdout();
    }

    private static String eval(String expression) {
        return Commands.runOk(PackagingTool.RPM, "--eval", expression).stdout();
    }

    private static String read(String source) {
        try {
            return Files.readString(RpmRoot.SOURCES.resolve(source));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
