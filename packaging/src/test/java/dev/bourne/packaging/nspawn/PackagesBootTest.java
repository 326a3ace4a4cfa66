package dev.bourne.packaging.nspawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.packaging.Rpms;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The RPMs end to end on a real systemd (issue 8's proof): in a {@code systemd-nspawn} container booted with systemd,
 * {@code rpm -ivh} installs both packages with their scriptlets, the units start as shipped (Type=notify: the server
 * becomes ready), the agent attests with a join token, its Workload API serves an X.509-SVID to a registered workload
 * and refuses an unregistered one, and {@code systemctl stop} leaves no socket behind.
 *
 * <p>Everything happens in one boot, driven by {@code packages-driver.sh} inside the container; this class checks the
 * facts it recorded. A failure message carries the driver's log, the container's journal and the console.
 */
class PackagesBootTest {

    private static final String TD = "example.org";
    /**
     * {@code systemd-analyze security} of the running units, as the container's systemd sees them (the offline gate
     * with its own threshold is in the inspection tests): measured 1.4 (server) and 1.7 (agent).
     */
    private static final double MAX_EXPOSURE = 2.5;

    @Test
    void installedUnitsServeAWorkload() {
        ContainerRun run = new ContainerRun(ContainerRun.workDir("packages-boot"), "packages-driver.sh");
        for (Path rpm : Rpms.get().all()) {
            run.container().bindReadOnly(rpm, "/rpms/" + rpm.getFileName());
        }
        run.run(Duration.ofSeconds(240));

        String report = run.report();
        System.out.println("container ran " + run.boot().took().toMillis() + " ms\nsteps:\n" + run.steps()
                + "values: " + run.values());
        assertFalse(run.boot().timedOut(), () -> "the container did not power off by itself\n" + report);
        assertEquals("ok", run.status(), () -> report);
        Map<String, String> v = run.values();

        // Installation: the three packages, accounts from sysusers.d, nothing enabled (under RHEL's "disable *" preset
        // policy, which the driver sets) or started by surprise.
        assertEquals("bourne-agent bourne-server bourne-vendordata", v.get("rpm.installed"), () -> report);
        assertTrue(v.get("user.bourne-server.groups").contains("bourne"), () -> report);
        assertTrue(v.get("user.bourne-agent.groups").contains("bourne"), () -> report);
        assertEquals("disabled", v.get("server.enabled"), () -> report);
        assertEquals("disabled", v.get("agent.enabled"), () -> report);
        assertEquals("inactive", v.get("server.active_after_install"), () -> report);
        assertEquals("640 root:bourne", v.get("config.server"), () -> report);
        assertEquals("640 root:bourne", v.get("config.agent"), () -> report);

        // The shipped configuration, not yet filled in: the start fails, and the journal names the missing key at
        // error priority.
        assertNotEquals("0", v.get("server.unconfigured_start_exit"), () -> report);
        assertTrue(v.get("server.unconfigured_error").contains("trust_domain"), () -> report);

        // The server: ready (systemctl start returned), hardened, admin socket 0770 group bourne.
        assertEquals("active", v.get("bourne-server.service.active"), () -> report);
        assertEquals("bourne-server", v.get("server.user"), () -> report);
        assertEquals("1", v.get("server.no_new_privs"), () -> report);
        assertEquals("0000000000000000", v.get("server.cap_bnd"), () -> report);
        assertEquals("2", v.get("server.seccomp"), () -> report);
        assertEquals("770 bourne-server:bourne", v.get("server.socket"), () -> report);
        assertEquals("750 bourne-server:bourne", v.get("server.state_dir"), () -> report);
        assertEquals("0", v.get("server.healthcheck_exit"), () -> report);
        assertNotEquals("0", v.get("admin.stranger_exit"), () -> "a user outside group bourne used the admin socket\n"
                + report);
        // Refused by the file system, and the CLI says so.
        assertTrue(v.get("admin.stranger_output").contains(
                "permission denied on the server's admin socket: run as root or as a member of group bourne"),
                () -> report);
        assertEquals("1", v.get("server.bundle_certs"), () -> report);
        assertTrue(Double.parseDouble(v.get("server.exposure")) <= MAX_EXPOSURE, () -> report);

        // The agent: attested with the join token, hardened, Workload API socket 0777.
        assertEquals("active", v.get("bourne-agent.service.active"), () -> report);
        assertEquals("bourne-agent", v.get("agent.user"), () -> report);
        assertEquals("1", v.get("agent.no_new_privs"), () -> report);
        assertEquals("0000000000000000", v.get("agent.cap_bnd"), () -> report);
        assertTrue(v.get("agent.socket").startsWith("777 bourne-agent:"), () -> report);
        assertEquals("1", v.get("server.agents"), () -> report);
        assertEquals("0", v.get("agent.healthcheck_exit"), () -> report);
        assertTrue(Double.parseDouble(v.get("agent.exposure")) <= MAX_EXPOSURE, () -> report);

        // The workload: its SVID from the installed agent; a user without an entry gets none.
        assertEquals("spiffe://" + TD + "/e2e/workload", v.get("workload.spiffe_id"), () -> report);
        assertTrue(List.of(v.get("workload.files").split(" ")).containsAll(
                List.of("svid.0.pem", "svid.0.key", "bundle.0.pem")), () -> report);
        assertNotEquals("0", v.get("workload.stranger_exit"), () -> report);
        assertTrue(v.get("workload.stranger_output").contains("no identity"), () -> report);

        // systemctl stop: clean exits, no stale sockets.
        // The IID signing service: ready on its own SoftHSM2 token, signs Nova's request, publishes the key it signed
        // with, refuses a caller without Nova's token, stops cleanly.
        assertEquals("active", v.get("bourne-vendordata.service.active"), () -> report);
        assertEquals("bourne-vendordata", v.get("vendordata.user"), () -> report);
        assertEquals("0000000000000000", v.get("vendordata.cap_bnd"), () -> report);
        assertTrue(Double.parseDouble(v.get("vendordata.exposure")) <= MAX_EXPOSURE, () -> report);
        assertEquals("200", v.get("vendordata.iid_http"), () -> report);
        String[] claims = v.get("vendordata.iid_claims").split(" ");
        assertEquals(4, claims.length, () -> report);
        assertEquals("3f2a6c1e-8f4b-4d2a-9c3e-5b6a7d8e9f01", claims[0], () -> report);
        assertEquals("0123456789abcdef0123456789abcdef", claims[1], () -> report);
        assertEquals("https://localhost:8443", claims[2], () -> report);
        assertTrue(List.of(v.get("vendordata.jwks_kids").split(" ")).contains(claims[3]),
                () -> "the document's kid is not in the published JWK set\n" + report);
        assertEquals("401", v.get("vendordata.anonymous_http"), () -> report);
        assertEquals("inactive", v.get("vendordata.stopped"), () -> report);
        assertEquals("success", v.get("vendordata.stop_result"), () -> report);

        // The HSM PIN as a systemd credential (the drop-in docs/install.md describes): the server restarts and serves,
        // and its user can no longer read the root-owned PIN file itself.
        assertEquals("active", v.get("server.credential_active"), () -> report);
        assertEquals("0", v.get("server.credential_healthcheck_exit"), () -> report);
        assertEquals("no", v.get("server.pin_file_readable_by_service_user"), () -> report);

        assertEquals("inactive", v.get("agent.stopped"), () -> report);
        assertEquals("success", v.get("agent.stop_result"), () -> report);
        assertEquals("no", v.get("agent.socket_left"), () -> report);
        assertEquals("inactive", v.get("server.stopped"), () -> report);
        assertEquals("success", v.get("server.stop_result"), () -> report);
        assertEquals("no", v.get("server.socket_left"), () -> report);
        assertEquals(0, run.boot().exitCode(), () -> report);
    }
}
