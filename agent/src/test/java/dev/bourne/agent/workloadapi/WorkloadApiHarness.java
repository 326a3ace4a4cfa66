package dev.bourne.agent.workloadapi;

import dev.bourne.agent.cache.IdentityCache;
import dev.bourne.agent.workloadattestor.ProcessStartTimes;
import dev.bourne.agent.workloadattestor.UnixAttestorSettings;
import dev.bourne.agent.workloadattestor.UnixWorkloadAttestor;
import dev.bourne.agent.workloadattestor.WorkloadAttestorCatalog;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/** A real agent Workload API for tests: the identity cache, the real unix attestor, the server on a Unix socket. */
final class WorkloadApiHarness implements AutoCloseable {
    final TestWorkloads pki = new TestWorkloads();
    final IdentityCache cache = new IdentityCache(pki.minter());
    final WorkloadApiServer server;

    WorkloadApiHarness(Path socket) throws IOException {
        ProcessStartTimes startTimes = new ProcessStartTimes(Path.of("/proc"));
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(
                List.of(UnixWorkloadAttestor.system(UnixAttestorSettings.DEFAULTS)), startTimes);
        WorkloadApiService service = new WorkloadApiService(cache, catalog, Clock.systemUTC(),
                new BouncyCastleProvider(), false);
        server = WorkloadApiServer.start(socket, service, startTimes);
    }

    Path socket() {
        return server.socketPath();
    }

    /** The address java-spiffe takes ({@code unix:/path}). */
    String address() {
        return "unix:" + server.socketPath();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
