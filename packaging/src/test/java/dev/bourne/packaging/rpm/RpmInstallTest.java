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
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Installs both RPMs into a directory with {@code rpm --root} (accounts from the packages' sysusers.d files), checks
 * what landed where with which mode and owner, runs the installed launchers on the installed jars, validates the
 * installed configurations once the operator's values are filled in, and upgrades to a second release.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RpmInstallTest {
    @TempDir
    static Path temp;

    private static RpmRoot root;

    @BeforeAll
    static void install() throws IOException {
        root = RpmRoot.install(temp, Rpms.get().all());
    }

    @Test
    @Order(1)
    void sysusers_createTheServiceAccounts() {
        List<String> server = root.entry("etc/passwd", "bourne-server");
        List<String> agent = root.entry("etc/passwd", "bourne-agent");
        assertEquals(List.of("/var/lib/bourne/server", "/usr/sbin/nologin"), server.subList(5, 7));
        assertEquals(List.of("/var/lib/bourne/agent", "/usr/sbin/nologin"), agent.subList(5, 7));
        assertTrue(Integer.parseInt(server.get(2)) < 1000 && Integer.parseInt(agent.get(2)) < 1000,
                "not system accounts: " + server + " " + agent);
        // Primary groups: the agent its own; the server's own too (the unit sets Group=bourne).
        assertEquals(Integer.toString(root.gid("bourne-agent")), agent.get(3));
        assertEquals(Integer.toString(root.gid("bourne-server")), server.get(3));
        List<String> vendordata = root.entry("etc/passwd", "bourne-vendordata");
        assertEquals(List.of("/var/lib/bourne/vendordata", "/usr/sbin/nologin"), vendordata.subList(5, 7));
        assertEquals(Set.of("bourne-server", "bourne-agent", "bourne-vendordata"), members("bourne"));
        assertEquals(Set.of("bourne-agent"), members("tss"));
    }

    @Test
    @Order(2)
    void installedPaths_haveTheirModesAndOwners() throws IOException {
        root.assertOwnedBy("/etc/bourne", "0750", "root", "bourne");
        root.assertOwnedBy("/etc/bourne/server.conf", "0640", "root", "bourne");
        root.assertOwnedBy("/etc/bourne/agent.conf", "0640", "root", "bourne");
        root.assertOwnedBy("/etc/sysconfig/bourne-server", "0644", "root", "root");
        root.assertOwnedBy("/etc/sysconfig/bourne-agent", "0644", "root", "root");
        root.assertOwnedBy("/usr/bin/bourne-server", "0755", "root", "root");
        root.assertOwnedBy("/usr/bin/bourne-agent", "0755", "root", "root");
        for (String unit : List.of("bourne-server.service", "bourne-agent.service")) {
            root.assertOwnedBy("/usr/lib/systemd/system/" + unit, "0644", "root", "root");
        }
        for (String dir : List.of("/usr/lib/sysusers.d/", "/usr/lib/tmpfiles.d/")) {
            root.assertOwnedBy(dir + "bourne-server.conf", "0644", "root", "root");
            root.assertOwnedBy(dir + "bourne-agent.conf", "0644", "root", "root");
        }
        root.assertOwnedBy("/var/lib/bourne", "0755", "root", "root");
        root.assertOwnedBy("/var/lib/bourne/server", "0750", "bourne-server", "bourne");
        root.assertOwnedBy("/var/lib/bourne/agent", "0750", "bourne-agent", "bourne-agent");
        root.assertOwnedBy("/var/lib/bourne/vendordata", "0750", "bourne-vendordata", "bourne-vendordata");
        root.assertOwnedBy("/etc/bourne/vendordata", "0750", "root", "bourne-vendordata");
        root.assertOwnedBy("/etc/bourne/vendordata.conf", "0640", "root", "bourne");
        root.assertOwnedBy("/usr/bin/bourne-vendordata", "0755", "root", "root");
        root.assertOwnedBy("/usr/lib/systemd/system/bourne-vendordata.service", "0644", "root", "root");
        root.assertOwnedBy("/usr/lib/sysusers.d/bourne-vendordata.conf", "0644", "root", "root");
        root.assertOwnedBy("/usr/share/bourne/server", "0755", "root", "root");
        root.assertOwnedBy("/usr/share/bourne/agent", "0755", "root", "root");
        try (var jars = Files.list(root.path("/usr/share/bourne/server"))) {
            for (Path jar : (Iterable<Path>) jars::iterator) {
                root.assertOwnedBy("/usr/share/bourne/server/" + jar.getFileName(), "0644", "root", "root");
            }
        }
        // /run is a tmpfs: its directories are %ghost, made by systemd-tmpfiles, never written by rpm.
        assertFalse(Files.exists(root.path("/run/bourne")));
        // The installed sysusers.d and tmpfiles.d files are the sources the tests used.
        for (String role : List.of("server", "agent", "vendordata")) {
            assertEquals(Files.readString(RpmRoot.SOURCES.resolve("bourne-" + role + ".sysusers")),
                    Files.readString(root.path("/usr/lib/sysusers.d/bourne-" + role + ".conf")));
            if (role.equals("vendordata")) {
                continue;
            }
            assertEquals(Files.readString(RpmRoot.SOURCES.resolve("bourne-" + role + ".tmpfiles")),
                    Files.readString(root.path("/usr/lib/tmpfiles.d/bourne-" + role + ".conf")));
        }
    }

    @Test
    @Order(3)
    void installedLaunchers_runTheInstalledJars() {
        Exec.Result server = launcher("server", Map.of(), "--help");
        assertEquals(0, server.exitCode(), server.toString());
        assertTrue(server.stdout().contains("Usage: bourne-server"), server.stdout());
        Exec.Result agent = launcher("agent", Map.of(), "--help");
        assertEquals(0, agent.exitCode(), agent.toString());
        assertTrue(agent.stdout().contains("Usage: bourne-agent"), agent.stdout());
        Exec.Result vendordata = launcher("vendordata", Map.of(), "--help");
        assertEquals(0, vendordata.exitCode(), vendordata.toString());
        assertTrue(vendordata.stdout().contains("Usage: bourne-vendordata"), vendordata.stdout());
    }

    @Test
    @Order(3)
    void installedLauncher_honoursBourneJavaOpts() {
        Exec.Result result = launcher("server", Map.of("BOURNE_JAVA_OPTS", "-Dbourne.rpm.test=yes -XshowSettings:properties"),
                "--help");
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("bourne.rpm.test = yes"), result.stderr());
        // The class path is the installed jar directory, whatever the root: nothing from this repository.
        String jarDir = root.path("/usr/share/bourne/server") + "/";
        String classPath = result.stderr().substring(result.stderr().indexOf("java.class.path = "),
                result.stderr().indexOf("java.class.version = "));
        assertTrue(classPath.startsWith("java.class.path = " + jarDir), classPath);
        for (String entry : classPath.substring("java.class.path = ".length()).strip().split("\\s+")) {
            assertTrue(entry.startsWith(jarDir) && entry.endsWith(".jar"), entry);
        }
    }

    @Test
    @Order(3)
    void installedLauncher_javaHomeTooOldOrMissing_clearError() throws IOException {
        Path fakeHome = Files.createDirectories(temp.resolve("jre-11/bin"));
        Files.writeString(temp.resolve("jre-11/release"), "JAVA_VERSION=\"11.0.25\"\n");
        Path java = fakeHome.resolve("java");
        Files.writeString(java, "#!/bin/sh\nexit 99\n");
        java.toFile().setExecutable(true);
        Exec.Result old = launcher("agent", Map.of("JAVA_HOME", temp.resolve("jre-11").toString()), "--help");
        assertEquals(1, old.exitCode(), old.toString());
        assertEquals("bourne-agent: JAVA_HOME=" + temp.resolve("jre-11")
                + " is Java 11; Bourne needs Java 17 or newer", old.stderr().strip());
        Exec.Result none = launcher("agent", Map.of("JAVA_HOME", temp.resolve("nowhere").toString()), "--help");
        assertEquals(1, none.exitCode(), none.toString());
        assertEquals("bourne-agent: JAVA_HOME=" + temp.resolve("nowhere") + " has no bin/java",
                none.stderr().strip());
    }

    @Test
    @Order(4)
    void installedConfigs_asShipped_nameWhatTheOperatorMustFillIn() {
        Exec.Result server = launcher("server", Map.of(), "validate", "-config",
                root.path("/etc/bourne/server.conf").toString());
        assertEquals(1, server.exitCode(), server.toString());
        assertTrue(server.stderr().contains("server.trust_domain: is required"), server.stderr());
        Exec.Result agent = launcher("agent", Map.of(), "validate", "-config",
                root.path("/etc/bourne/agent.conf").toString());
        assertEquals(1, agent.exitCode(), agent.toString());
        assertTrue(agent.stderr().contains("agent.trust_domain: is required"), agent.stderr());
        assertTrue(agent.stderr().contains("agent.server_address: is required"), agent.stderr());
        Exec.Result vendordata = launcher("vendordata", Map.of(), "validate", "-config",
                root.path("/etc/bourne/vendordata.conf").toString());
        assertEquals(1, vendordata.exitCode(), vendordata.toString());
        for (String key : List.of("vendordata.issuer", "vendordata.audience",
                "plugins.KeyManager.pkcs11.plugin_data.library", "plugins.KeyManager.pkcs11.plugin_data.token_label")) {
            assertTrue(vendordata.stderr().contains(key + ": is required"), vendordata.stderr());
        }
    }

    @Test
    @Order(5)
    void installedConfigs_withTheMarkedValuesFilled_areValid() throws IOException {
        Path server = fill("/etc/bourne/server.conf", "trust_domain|library|token_label");
        Exec.Result serverResult = launcher("server", Map.of(), "validate", "-config", server.toString());
        assertEquals(0, serverResult.exitCode(), serverResult.toString());
        assertTrue(serverResult.stdout().contains("Configuration is valid"), serverResult.toString());
        String filled = Files.readString(server);
        assertTrue(filled.contains("library = \"/usr/lib64/pkcs11/libsofthsm2.so\"") && filled.contains(
                "KeyManager \"pkcs11\"") && filled.contains("pin_file = \"/etc/bourne/hsm.pin\""), filled);

        Path agent = fill("/etc/bourne/agent.conf", "trust_domain|server_address");
        Exec.Result agentResult = launcher("agent", Map.of(), "validate", "-config", agent.toString());
        assertEquals(0, agentResult.exitCode(), agentResult.toString());
        assertTrue(agentResult.stdout().contains("valid"), agentResult.toString());
        String agentText = Files.readString(agent);
        assertTrue(agentText.contains("NodeAttestor \"tpm\"") && agentText.contains(
                "socket_path = \"/run/bourne/agent/public/api.sock\""), agentText);
    }

    @Test
    @Order(5)
    void installedVendordataConfig_withTheMarkedValuesAndItsFilesFilled_isValid() throws IOException {
        // The operator's files in /etc/bourne/vendordata (here under the root): TLS certificate and key, Nova's token.
        Path dir = root.path("/etc/bourne/vendordata");
        Exec.run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                "-keyout", dir.resolve("tls.key").toString(), "-out", dir.resolve("tls.crt").toString()),
                Map.of(), java.time.Duration.ofSeconds(30)).requireSuccess();
        Files.setPosixFilePermissions(dir.resolve("tls.key"), java.nio.file.attribute.PosixFilePermissions.fromString(
                "rw-------"));
        Files.writeString(dir.resolve("token"), "0123456789abcdef0123456789abcdef0123456789abcdef\n");
        Files.setPosixFilePermissions(dir.resolve("token"), java.nio.file.attribute.PosixFilePermissions.fromString(
                "rw-------"));
        Path filled = fill("/etc/bourne/vendordata.conf", "issuer|audience|library|token_label");
        Files.writeString(filled, Files.readString(filled).replace("\"/etc/bourne/vendordata/", "\"" + dir + "/"));
        Exec.Result result = launcher("vendordata", Map.of(), "validate", "-config", filled.toString());
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().contains("valid"), result.toString());
    }

    @Test
    @Order(6)
    void upgrade_keepsTheEditedConfig_writesRpmnew() throws IOException {
        Path serverConf = root.path("/etc/bourne/server.conf");
        Files.writeString(serverConf, "# edited by the operator\n", StandardOpenOption.APPEND);
        String edited = Files.readString(serverConf);
        String agentConf = Files.readString(root.path("/etc/bourne/agent.conf"));

        // Release 2 ships a changed server.conf (so rpm must choose between it and the operator's edit).
        Path sources = Files.createDirectories(temp.resolve("sources-2"));
        try (var files = Files.list(RpmRoot.SOURCES)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, sources.resolve(f.getFileName()));
                }
            }
        }
        Files.writeString(sources.resolve("server.conf"), "# changed in release 2\n", StandardOpenOption.APPEND);
        Rpms.Built release2 = Rpms.build(2, sources, temp.resolve("rpms-2"));
        root.rpm("-Uvh", release2.all());

        String release = Commands.runOk(PackagingTool.RPM, "-qp", "--qf", "%{RELEASE}",
                release2.server().toString()).stdout();
        assertTrue(release.equals("2") || release.equals("0.2.snapshot"), release);
        assertEquals(release + "\n" + release + "\n", Commands.runOk(PackagingTool.RPM, "--root", root.dir().toString(),
                "-q", "--qf", "%{RELEASE}\n", "bourne-server", "bourne-agent").stdout());
        // The operator's files in the package's directory survive the upgrade.
        assertTrue(Files.exists(root.path("/etc/bourne/vendordata/tls.key")));
        assertEquals(edited, Files.readString(serverConf), "the edited server.conf was replaced");
        Path rpmnew = root.path("/etc/bourne/server.conf.rpmnew");
        assertTrue(Files.exists(rpmnew), "no server.conf.rpmnew");
        assertTrue(Files.readString(rpmnew).endsWith("# changed in release 2\n"));
        root.assertOwnedBy("/etc/bourne/server.conf", "0640", "root", "bourne");
        // Unchanged in the package and not edited: replaced silently, no .rpmnew.
        assertEquals(agentConf, Files.readString(root.path("/etc/bourne/agent.conf")));
        assertFalse(Files.exists(root.path("/etc/bourne/agent.conf.rpmnew")));
    }

    private static java.util.Set<String> members(String group) {
        String field = root.entry("etc/group", group).get(3);
        return field.isEmpty() ? java.util.Set.of() : java.util.Set.of(field.split(","));
    }

    /** A copy of an installed config with the commented keys uncommented, as an operator does with sed. */
    private static Path fill(String config, String keys) throws IOException {
        Path out = temp.resolve(Path.of(config).getFileName() + ".filled");
        Exec.Result sed = Exec.run(List.of("sed", "-E", "s/^( *)# (" + keys + ") = /\\1\\2 = /",
                root.path(config).toString()), Map.of(), java.time.Duration.ofSeconds(30)).requireSuccess();
        Files.writeString(out, sed.stdout());
        return out;
    }

    private static Exec.Result launcher(String role, Map<String, String> env, String... args) {
        return Commands.run(root.path("/usr/bin/bourne-" + role), env, args);
    }
}
