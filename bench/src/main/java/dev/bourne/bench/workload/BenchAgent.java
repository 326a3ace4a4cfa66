package dev.bourne.bench.workload;

import dev.bourne.agent.cache.CacheContents;
import dev.bourne.agent.cache.IdentityCache;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.agent.workloadapi.JwtSvidMintException;
import dev.bourne.agent.workloadapi.WorkloadApiServer;
import dev.bourne.agent.workloadapi.WorkloadApiService;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.agent.workloadattestor.ProcessStartTimes;
import dev.bourne.agent.workloadattestor.UnixAttestorSettings;
import dev.bourne.agent.workloadattestor.UnixWorkloadAttestor;
import dev.bourne.agent.workloadattestor.WorkloadAttestorCatalog;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.testing.pki.TestCa;
import io.grpc.BindableService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The agent's real Workload API as the benchmark serves it: an {@link IdentityCache} holding one registration entry
 * for this process's uid (selector {@code unix:uid:<uid>}) with a real X.509-SVID (a P-256 key from the agent's
 * {@link WorkloadKeyGenerator}, a leaf signed by a test-fixtures {@link TestCa}), the real {@code unix} workload
 * attestor reading {@code /proc} and the account files on every call, and {@link WorkloadApiServer} on a Unix socket.
 */
final class BenchAgent implements AutoCloseable {
    static final TrustDomain TRUST_DOMAIN = TrustDomain.parse("example.org");
    static final SpiffeId WORKLOAD_ID = SpiffeId.parse("spiffe://example.org/bench/workload");
    static final String ENTRY_ID = "bench-entry";
    static final String NO_JWT = "the Workload API benchmark does not mint JWT-SVIDs";

    private final TestCa ca = TestCa.root(TRUST_DOMAIN.name());
    private final WorkloadKeyGenerator keys = new WorkloadKeyGenerator(new SecureRandom());
    private final WorkloadEntry entry;
    private final IdentityCache cache;
    private final WorkloadApiServer server;
    private final ProcessStartTimes startTimes = new ProcessStartTimes(Path.of("/proc"));
    private volatile CacheContents contents;

    BenchAgent(Path socket) throws IOException {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid", LinkOption.NOFOLLOW_LINKS);
        entry = WorkloadEntry.of(ENTRY_ID, WORKLOAD_ID, new Selector("unix", "uid:" + uid));
        // The benchmark never calls FetchJWTSVID: a minter that refuses is the honest stand-in for the server.
        cache = new IdentityCache((id, audience) -> {
            throw new JwtSvidMintException(NO_JWT);
        });
        SpiffeBundle bundle = SpiffeBundle.of(TRUST_DOMAIN, List.of(ca.certificate()), Map.of());
        contents = new CacheContents(bundle, Map.of(), List.of(entry), Map.of(ENTRY_ID, newSvid()));
        cache.update(contents);
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(
                List.of(UnixWorkloadAttestor.system(UnixAttestorSettings.DEFAULTS)), startTimes);
        WorkloadApiService service = new WorkloadApiService(cache, catalog, Clock.systemUTC(),
                new BouncyCastleProvider(), false);
        server = WorkloadApiServer.start(socket, service, startTimes);
    }

    /**
     * Serves {@code service} with the agent's own server setup (epoll domain socket, the same event loops, peer
     * credentials and security-header interceptor) on another socket: the gRPC baseline.
     */
    WorkloadApiServer startOther(Path socket, BindableService service) throws IOException {
        return WorkloadApiServer.start(socket, service, startTimes);
    }

    Path socket() {
        return server.socketPath();
    }

    /** A fresh SVID for the entry: new key, new leaf. */
    WorkloadX509Svid newSvid() {
        WorkloadKeyGenerator.GeneratedKey key = keys.generate();
        X509Certificate leaf = ca.leaf(WORKLOAD_ID.toString(), key.publicKey());
        try {
            return new WorkloadX509Svid(ENTRY_ID, TestCa.svidChain(leaf, ca), key.privateKey(), entry.hint());
        } catch (X509SvidException e) {
            throw new IllegalStateException("the test CA issued a certificate that is not an X.509-SVID", e);
        }
    }

    /** The contents the next rotation starts from, for building its update outside the timed section. */
    CacheContents contents() {
        return contents;
    }

    /** Publishes prepared contents (built by {@link CacheContents#withSvid}) in one update. */
    void publish(CacheContents next) {
        contents = next;
        cache.update(next);
    }

    int watchers() {
        return cache.watcherCount();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
