package dev.bourne.appliance.server;

import dev.bourne.appliance.agentapi.TlsCredential;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CaSnapshot;
import dev.bourne.appliance.ca.IssuedX509Svid;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.core.spiffeid.SpiffeId;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's own X.509-SVID, {@code spiffe://<td>/spire/server}, which the agent API presents in TLS. Its P-256 key
 * is generated in memory by this process (never stored: a restart makes a new one) and certified by the active X.509
 * authority. It is renewed at half its lifetime and whenever another authority becomes active, and published through
 * one atomic swap, so each TLS handshake sees a whole old or a whole new credential.
 */
public final class ServerSvid implements Supplier<TlsCredential>, AutoCloseable {
    /** How often the half-life check runs. */
    static final Duration CHECK_INTERVAL = Duration.ofSeconds(5);
    private static final Logger LOG = LoggerFactory.getLogger(ServerSvid.class);

    private record Current(TlsCredential credential, Instant notBefore, Instant notAfter, String authorityId) {
    }

    private final SpiffeId serverId;
    private final CaManager ca;
    private final X509SvidIssuer issuer;
    private final Duration ttl;
    private final Clock clock;
    private final SecureRandom random;
    private final ServerMetrics metrics;
    private final AtomicReference<Current> current = new AtomicReference<>();
    private final ScheduledExecutorService scheduler;
    private final Consumer<CaSnapshot> listener = this::onCaChange;

    private ServerSvid(SpiffeId serverId, CaManager ca, X509SvidIssuer issuer, Duration ttl, Clock clock,
            SecureRandom random, ServerMetrics metrics) {
        this.serverId = serverId;
        this.ca = ca;
        this.issuer = issuer;
        this.ttl = ttl;
        this.clock = clock;
        this.random = random;
        this.metrics = metrics;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "bourne-server-svid");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Issues the first server SVID and starts renewing it. */
    public static ServerSvid start(CaManager ca, X509SvidIssuer issuer, Duration ttl, Clock clock,
            SecureRandom random, ServerMetrics metrics) throws Exception {
        SpiffeId id = SpiffeId.of(ca.options().trustDomain(), "spire", "server");
        ServerSvid svid = new ServerSvid(id, Objects.requireNonNull(ca, "ca"), Objects.requireNonNull(issuer),
                Objects.requireNonNull(ttl), Objects.requireNonNull(clock), Objects.requireNonNull(random),
                Objects.requireNonNull(metrics));
        svid.rotate();
        ca.addListener(svid.listener);
        svid.scheduler.scheduleWithFixedDelay(svid::renewIfDue, CHECK_INTERVAL.toMillis(), CHECK_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
        return svid;
    }

    @Override
    public TlsCredential get() {
        return current.get().credential();
    }

    /** When the current server SVID expires. */
    public Instant notAfter() {
        return current.get().notAfter();
    }

    /** Makes a new key and SVID now and swaps it in. */
    public synchronized void rotate() throws Exception {
        KeyPair pair = newKeyPair();
        var authority = ca.activeX509Authority();
        IssuedX509Svid svid = issuer.issue(authority, pair.getPublic(), serverId, List.of(), ttl);
        current.set(new Current(new TlsCredential(pair.getPrivate(), svid.chain()), svid.notBefore(),
                svid.notAfter(), authority.authorityId()));
        metrics.svidIssued(ServerMetrics.SvidKind.SERVER);
        LOG.info("server SVID {} issued by authority {}, valid until {}", serverId, authority.authorityId(),
                svid.notAfter());
    }

    private KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), random);
        return generator.generateKeyPair();
    }

    /** Renews the SVID when half its lifetime has passed on the injected clock (run every {@link #CHECK_INTERVAL}). */
    void renewIfDue() {
        Current now = current.get();
        Instant half = now.notBefore().plus(Duration.between(now.notBefore(), now.notAfter()).dividedBy(2));
        if (!clock.instant().isBefore(half)) {
            rotateLogged("half of its lifetime passed");
        }
    }

    private void onCaChange(CaSnapshot snapshot) {
        if (!snapshot.activeX509().authorityId().equals(current.get().authorityId())) {
            // At once, on the thread that activated the authority: one signature, and the next handshake already
            // presents an SVID from the new authority.
            rotateLogged("another X.509 authority became active");
        }
    }

    private void rotateLogged(String why) {
        try {
            LOG.info("renewing the server SVID: {}", why);
            rotate();
        } catch (Exception e) {
            LOG.error("cannot renew the server SVID (the current one stays in use until it expires): {}",
                    e.toString());
        }
    }

    @Override
    public void close() {
        ca.removeListener(listener);
        scheduler.shutdownNow();
    }
}
