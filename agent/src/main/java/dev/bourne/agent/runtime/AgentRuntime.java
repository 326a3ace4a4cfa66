package dev.bourne.agent.runtime;

import dev.bourne.agent.cache.CacheContents;
import dev.bourne.agent.cache.IdentityCache;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.agent.node.AgentApiClient;
import dev.bourne.agent.node.AgentKeys;
import dev.bourne.agent.node.AgentStateStore;
import dev.bourne.agent.node.AgentSvid;
import dev.bourne.agent.node.JoinTokenAttestor;
import dev.bourne.agent.node.NodeAttestationException;
import dev.bourne.agent.node.NodeAttestor;
import dev.bourne.agent.node.NodeTpm;
import dev.bourne.agent.node.OpenStackNodeAttestor;
import dev.bourne.agent.node.SealedKeyUnavailableException;
import dev.bourne.agent.node.TpmNodeAttestor;
import dev.bourne.agent.node.ServerCallException;
import dev.bourne.agent.node.ServerConnection;
import dev.bourne.agent.node.ServerTrust;
import dev.bourne.agent.sync.EntrySynchronizer;
import dev.bourne.agent.sync.GrpcEntryServer;
import dev.bourne.agent.sync.JwtSvidCache;
import dev.bourne.agent.workloadapi.WorkloadApiServer;
import dev.bourne.agent.workloadapi.WorkloadApiService;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.agent.workloadattestor.ProcessStartTimes;
import dev.bourne.agent.workloadattestor.WorkloadAttestorCatalog;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.openstack.agent.OpenStackAgentSettings;
import dev.bourne.openstack.agent.VendorDataClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running agent, composed from {@link AgentSettings}: the Workload API on its Unix socket, node attestation,
 * agent SVID renewal at half-life, and the entry sync loop feeding the {@link IdentityCache}.
 *
 * <p>One thread ("bourne-agent-sync") does all server work in order: attest if needed, renew if due, sync. A failed
 * round keeps the cache (workloads keep their SVIDs until those expire) and retries with jittered exponential backoff;
 * the Workload API answers UNAVAILABLE until the first sync succeeds.
 */
public final class AgentRuntime implements AutoCloseable {
    /** How often entries are synced (SPIRE's getting-started flow expects a new entry within 5 s). */
    public static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofSeconds(5);
    /** Longest wait between retries while the server is unreachable. */
    public static final Duration MAX_BACKOFF = Duration.ofMinutes(1);
    public static final int MAX_TRUST_BUNDLE_BYTES = 1 << 20;

    public static final String STARTING = "starting";
    public static final String NO_JOIN_TOKEN = "no join token: pass -joinToken or set plugin_data join_token";
    public static final String JOIN_TOKEN_SPENT = "node attestation was refused and a join token is single use: "
            + "generate a new token on the server and restart the agent with -joinToken";
    public static final String INTERNAL_ERROR = "internal error (see the log)";
    public static final String JOIN_TOKEN_FLAG_WITH_TPM = "-joinToken is only used with NodeAttestor \"join_token\"; "
            + "this agent attests with its TPM (NodeAttestor \"tpm\")";
    public static final String JOIN_TOKEN_FLAG_WITH_OPENSTACK = "-joinToken is only used with NodeAttestor "
            + "\"join_token\"; this agent attests with its instance identity document (NodeAttestor \"openstack_iid\")";

    private static final Logger LOG = LoggerFactory.getLogger(AgentRuntime.class);

    private final Clock clock;
    private final Duration syncInterval;
    private final AgentStateStore store;
    private final ServerTrust trust;
    private final AgentKeys keys;
    private final ServerConnection connection;
    private final AgentApiClient agentApi;
    private final EntrySynchronizer synchronizer;
    private final JwtSvidCache jwtCache;
    private final IdentityCache cache;
    private final Optional<NodeAttestor> attestor;
    /** The node's TPM, with NodeAttestor "tpm": opened on first use, released after every round. */
    private final Optional<NodeTpm> tpm;
    private final Backoff backoff;
    private final ScheduledExecutorService executor;
    private final WorkloadApiServer workloadApi;
    private final HealthListener health;
    private final AtomicReference<AgentStatus> status =
            new AtomicReference<>(new AgentStatus(false, false, Optional.empty(), STARTING));

    private final java.util.concurrent.CopyOnWriteArrayList<java.util.function.Consumer<AgentStatus>> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private int failures;
    private boolean attestationSpent;

    private AgentRuntime(AgentSettings settings, Optional<NodeTpm> tpm, Optional<NodeAttestor> attestor, Clock clock,
            SecureRandom random, Duration syncInterval) throws AgentStartException {
        this.clock = clock;
        this.syncInterval = syncInterval;
        this.backoff = new Backoff(syncInterval.compareTo(Duration.ofSeconds(1)) < 0 ? syncInterval
                : Duration.ofSeconds(1), MAX_BACKOFF.compareTo(syncInterval) < 0 ? syncInterval : MAX_BACKOFF, random);
        this.tpm = Objects.requireNonNull(tpm, "tpm");
        try {
            Optional<java.nio.file.Path> svidDirectory = AgentPlugins.svidDirectory(settings);
            this.store = new AgentStateStore(settings.dataDir(), svidDirectory, tpm.map(t -> t), random);
            if (store.sealsKey()) {
                LOG.info("NodeAttestor tpm with KeyManager disk: the agent key is kept sealed to the TPM's {} PCRs {} "
                        + "in {} (no plaintext key file)", tpm.get().settings().sealPcrBank().configName(),
                        tpm.get().settings().sealPcrs(), svidDirectory.get().resolve(AgentStateStore.SEALED_KEY_FILE));
            }
        } catch (IOException e) {
            throw new AgentStartException("cannot use data_dir " + settings.dataDir() + ": " + e.getMessage(), e);
        }
        // A bundle learnt from the server on an earlier run is newer than the bootstrap file: prefer it.
        Optional<SpiffeBundle> initial = store.loadBundle(settings.trustDomain());
        if (initial.isEmpty() && settings.trustBundlePath().isPresent()) {
            initial = Optional.of(readTrustBundle(settings));
        }
        if (initial.isEmpty() && settings.insecureBootstrap()) {
            LOG.warn("insecure_bootstrap = true: the first server reached is trusted without verification. "
                    + "Development only: set trust_bundle_path in production.");
        }
        this.trust = new ServerTrust(settings.trustDomain(), initial, settings.insecureBootstrap(), clock);
        this.keys = new AgentKeys();
        WorkloadKeyGenerator keyGenerator = new WorkloadKeyGenerator(random);
        this.connection = new ServerConnection(settings.serverAddress(), settings.serverPort(), trust, keys);
        this.agentApi = new AgentApiClient(connection, settings.trustDomain(), keyGenerator);
        GrpcEntryServer entryServer = new GrpcEntryServer(connection, settings.trustDomain(), agentApi);
        AtomicReference<IdentityCache> cacheRef = new AtomicReference<>();
        this.jwtCache = new JwtSvidCache(entryServer, id -> entryIdFor(cacheRef.get(), id), clock);
        this.cache = new IdentityCache(jwtCache);
        cacheRef.set(cache);
        this.synchronizer = new EntrySynchronizer(entryServer, cache, keyGenerator, clock, this::bundleReceived);
        this.attestor = Objects.requireNonNull(attestor, "attestor");

        List<ConfigError> errors = new ArrayList<>();
        WorkloadAttestorCatalog catalog = WorkloadAttestorCatalog.fromConfig(settings.plugins(), errors)
                .orElseThrow(() -> new AgentStartException("workload attestors: " + errors));
        WorkloadApiService service = new WorkloadApiService(cache, catalog, clock, new BouncyCastleProvider(), false);
        try {
            this.workloadApi = WorkloadApiServer.start(settings.socketPath(), service,
                    new ProcessStartTimes(Path.of("/proc")));
        } catch (IOException e) {
            connection.close();
            throw new AgentStartException("cannot serve the Workload API on " + settings.socketPath() + ": "
                    + e.getMessage(), e);
        }
        HealthListener listener = null;
        if (settings.healthChecks().listenerEnabled()) {
            try {
                listener = new HealthListener(settings.healthChecks(), status::get);
            } catch (IOException e) {
                closeQuietly();
                throw new AgentStartException("cannot open the health_checks listener on "
                        + settings.healthChecks().bindAddress() + ":" + settings.healthChecks().bindPort() + ": "
                        + e.getMessage(), e);
            }
        }
        this.health = listener;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bourne-agent-sync");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Validates the agent's plugins, opens the Workload API socket and starts attesting and syncing in the background.
     *
     * @param joinTokenFlag the {@code -joinToken} flag, which wins over the configuration's token
     */
    public static AgentRuntime start(AgentSettings settings, Optional<String> joinTokenFlag, Clock clock,
            SecureRandom random) throws AgentStartException {
        return start(settings, joinTokenFlag, clock, random, DEFAULT_SYNC_INTERVAL);
    }

    /** {@link #start} with another sync interval. */
    public static AgentRuntime start(AgentSettings settings, Optional<String> joinTokenFlag, Clock clock,
            SecureRandom random, Duration syncInterval) throws AgentStartException {
        checkStartable(settings, syncInterval);
        // The store seals the agent key with the same TPM the attestor uses: one NodeTpm for both.
        Optional<NodeTpm> tpm = AgentPlugins.tpm(settings).map(NodeTpm::new);
        if (tpm.isPresent() && joinTokenFlag.filter(t -> !t.isBlank()).isPresent()) {
            throw new AgentStartException(JOIN_TOKEN_FLAG_WITH_TPM);
        }
        Optional<OpenStackAgentSettings> openStack = AgentPlugins.openStack(settings);
        if (openStack.isPresent() && joinTokenFlag.filter(t -> !t.isBlank()).isPresent()) {
            throw new AgentStartException(JOIN_TOKEN_FLAG_WITH_OPENSTACK);
        }
        Optional<NodeAttestor> attestor = tpm.isPresent() ? tpm.map(TpmNodeAttestor::new)
                : openStack.isPresent()
                        ? openStack.map(s -> new OpenStackNodeAttestor(new VendorDataClient(s)))
                        : AgentPlugins.joinToken(settings, joinTokenFlag).map(JoinTokenAttestor::new);
        return launch(settings, tpm, attestor, clock, random, syncInterval);
    }

    /**
     * {@link #start} with {@code attestor} as the node attestor instead of the configured one. For tests only, which
     * plug in attestors that cannot exist in production (a server/agent pair with continuous attestation): no
     * configuration reaches this, and {@code bourne-agent run} never calls it.
     */
    static AgentRuntime startWithAttestor(AgentSettings settings, Optional<NodeAttestor> attestor, Clock clock,
            SecureRandom random, Duration syncInterval) throws AgentStartException {
        checkStartable(settings, syncInterval);
        return launch(settings, Optional.empty(), attestor, clock, random, syncInterval);
    }

    private static void checkStartable(AgentSettings settings, Duration syncInterval) throws AgentStartException {
        Objects.requireNonNull(settings, "settings");
        if (syncInterval.isNegative() || syncInterval.isZero()) {
            throw new AgentStartException("the sync interval must be positive");
        }
        List<ConfigError> errors = AgentPlugins.validate(settings);
        if (!errors.isEmpty()) {
            throw new AgentStartException("invalid configuration: " + errors);
        }
    }

    private static AgentRuntime launch(AgentSettings settings, Optional<NodeTpm> tpm, Optional<NodeAttestor> attestor,
            Clock clock, SecureRandom random, Duration syncInterval) throws AgentStartException {
        AgentRuntime runtime = new AgentRuntime(settings, tpm, attestor, clock, random, syncInterval);
        runtime.executor.execute(runtime::round);
        return runtime;
    }

    /** The Workload API socket. */
    public Path socketPath() {
        return workloadApi.socketPath();
    }

    /** Attested, synced, and why not. */
    public AgentStatus status() {
        return status.get();
    }

    /** Calls {@code listener} with the status after every round of server work, on the sync thread. */
    public void onStatus(java.util.function.Consumer<AgentStatus> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** The identity cache the Workload API reads. */
    public IdentityCache cache() {
        return cache;
    }

    /** The agent's SPIFFE ID, once attested. */
    public Optional<SpiffeId> agentId() {
        return keys.current().map(AgentSvid::spiffeId);
    }

    /** The agent SVID in use, once attested (its key stays inside; {@code toString} shows no secret). */
    public Optional<AgentSvid> agentSvid() {
        return keys.current();
    }

    /** The port of the health listener, if enabled (for tests binding port 0). */
    public Optional<Integer> healthPort() {
        return Optional.ofNullable(health).map(HealthListener::port);
    }

    /** One round of server work, then the next one scheduled: never lets an exception end the loop. */
    private void round() {
        Duration next;
        try {
            next = work();
            failures = 0;
        } catch (ServerCallException e) {
            failures++;
            if (e.kind() == ServerCallException.Kind.AGENT_UNKNOWN) {
                LOG.warn("the server does not know this agent any more ({}): attesting again", e.getMessage());
                forgetAgent();
            } else if (e.kind() == ServerCallException.Kind.ATTESTATION_REFUSED) {
                LOG.error("{}; the current agent SVID stays in use until {}", e.getMessage(),
                        keys.current().map(AgentSvid::notAfter).map(Object::toString).orElse("it expires"));
            } else if (e.kind() == ServerCallException.Kind.REJECTED) {
                LOG.warn("the server refused a request, retrying: {}", e.getMessage());
            } else {
                LOG.warn("server unavailable, retrying: {}", e.getMessage());
            }
            setReason(e.getMessage());
            next = backoff.delay(failures);
        } catch (NodeAttestationException e) {
            failures++;
            LOG.error("node attestation failed: {}", e.getMessage());
            setReason(attestationSpent ? JOIN_TOKEN_SPENT : e.getMessage());
            next = attestationSpent || attestor.isEmpty() ? MAX_BACKOFF : backoff.delay(failures);
        } catch (RuntimeException e) {
            failures++;
            LOG.error("agent sync round failed", e);
            setReason(INTERNAL_ERROR);
            next = backoff.delay(failures);
        }
        // Between rounds the TPM is free for others (bourne-agent tpm ek, tpm2-tools; swtpm serves one client).
        tpm.ifPresent(NodeTpm::release);
        pruneExpired();
        AgentStatus after = status.get();
        for (java.util.function.Consumer<AgentStatus> listener : listeners) {
            try {
                listener.accept(after);
            } catch (RuntimeException e) {
                LOG.warn("status listener failed", e);
            }
        }
        if (!executor.isShutdown()) {
            try {
                executor.schedule(this::round, next.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    private Duration work() throws ServerCallException, NodeAttestationException {
        ensureAttested();
        AgentSvid svid = keys.current().orElseThrow();
        if (!clock.instant().isBefore(svid.renewAt())) {
            renew();
        }
        EntrySynchronizer.Report report = synchronizer.syncOnce();
        if (report.changed() + report.removed() + report.minted() > 0) {
            LOG.info("entry sync: {} changed, {} removed, {} SVIDs minted", report.changed(), report.removed(),
                    report.minted());
        }
        status.set(new AgentStatus(true, true, Optional.of(clock.instant()),
                report.failures().isEmpty() ? "" : report.failures().size() + " entries without SVID"));
        Duration untilRenewal = Duration.between(clock.instant(), keys.current().orElseThrow().renewAt());
        return untilRenewal.isNegative() ? Duration.ZERO
                : untilRenewal.compareTo(syncInterval) < 0 ? untilRenewal : syncInterval;
    }

    private void ensureAttested() throws ServerCallException, NodeAttestationException {
        Optional<AgentSvid> current = keys.current();
        if (current.isPresent() && clock.instant().isBefore(current.get().notAfter())) {
            return;
        }
        Optional<AgentSvid> saved;
        try {
            saved = store.loadSvid().filter(s -> clock.instant().isBefore(s.notAfter()));
        } catch (SealedKeyUnavailableException e) {
            throw new NodeAttestationException(e.getMessage(), e);
        }
        if (saved.isPresent()) {
            LOG.info("resuming as {} with the agent SVID saved in data_dir",
                    JoinTokenAttestor.loggable(saved.get().spiffeId()));
            keys.set(saved.get());
            connection.reconnect();
            markAttested();
            return;
        }
        if (attestor.isEmpty()) {
            throw new NodeAttestationException(NO_JOIN_TOKEN);
        }
        if (attestationSpent) {
            throw new NodeAttestationException(JOIN_TOKEN_SPENT);
        }
        attest();
    }

    /**
     * Renews the agent SVID, with continuous attestation when the server asks for it. When the server refuses the
     * renewal's attestation (the node drifted from policy; it may have been evicted), an agent whose attestor can
     * attest again does so at once, keeping its current SVID until that succeeds; any other agent keeps its current
     * SVID until it expires and reports why (the next rounds ask again, with backoff).
     */
    private void renew() throws ServerCallException, NodeAttestationException {
        AgentSvid renewed;
        try {
            renewed = agentApi.renew(attestor);
        } catch (ServerCallException e) {
            if (e.kind() != ServerCallException.Kind.ATTESTATION_REFUSED || attestor.isEmpty()
                    || !attestor.get().reusable()) {
                throw e;
            }
            LOG.error("{}: attesting again with {}", e.getMessage(), attestor.get().name());
            attest();
            return;
        }
        installSvid(renewed);
        LOG.info("agent SVID renewed, valid until {}", renewed.notAfter());
    }

    /** Attests with the node attestor and installs the agent SVID it yields. */
    private void attest() throws ServerCallException, NodeAttestationException {
        AgentSvid svid;
        try {
            svid = agentApi.attest(attestor.get());
        } catch (NodeAttestationException e) {
            if (!attestor.get().reusable()) {
                attestationSpent = true;
            }
            throw e;
        }
        if (!attestor.get().reusable()) {
            attestationSpent = true;
        }
        LOG.info("node attested as {}, agent SVID valid until {}", JoinTokenAttestor.loggable(svid.spiffeId()),
                svid.notAfter());
        synchronizer.reset();
        jwtCache.clear();
        installSvid(svid);
        markAttested();
    }

    private void installSvid(AgentSvid svid) {
        keys.set(svid);
        try {
            store.saveSvid(svid);
        } catch (IOException e) {
            LOG.warn("cannot save the agent SVID in data_dir: {}", e.getMessage());
        }
        // New connections present the new certificate.
        connection.reconnect();
    }

    private void markAttested() {
        AgentStatus now = status.get();
        status.set(new AgentStatus(true, now.synced(), now.lastSync(), now.synced() ? "" : "attested, not synced"));
    }

    private void forgetAgent() {
        keys.clear();
        try {
            store.deleteSvid();
        } catch (IOException e) {
            LOG.warn("cannot delete the saved agent SVID: {}", e.getMessage());
        }
        synchronizer.reset();
        jwtCache.clear();
        connection.reconnect();
        AgentStatus now = status.get();
        status.set(new AgentStatus(false, now.synced(), now.lastSync(), now.reason()));
    }

    private void setReason(String reason) {
        AgentStatus now = status.get();
        boolean attested = keys.current().filter(s -> clock.instant().isBefore(s.notAfter())).isPresent();
        status.set(new AgentStatus(attested, now.synced(), now.lastSync(), reason));
    }

    private void bundleReceived(SpiffeBundle bundle) {
        Optional<SpiffeBundle> before = trust.bundle();
        if (before.isPresent() && before.get().equals(bundle)) {
            return;
        }
        trust.setBundle(bundle);
        try {
            store.saveBundle(bundle);
        } catch (IOException e) {
            LOG.warn("cannot save the trust bundle in data_dir: {}", e.getMessage());
        }
    }

    /** Drops SVIDs past their expiry from the cache: a server outage never leaves workloads with expired SVIDs. */
    private void pruneExpired() {
        Optional<CacheContents> contents = cache.contents();
        if (contents.isEmpty()) {
            return;
        }
        Instant now = clock.instant();
        boolean anyExpired = contents.get().svids().values().stream()
                .anyMatch(s -> !now.isBefore(s.chain().get(0).getNotAfter().toInstant()));
        if (!anyExpired) {
            return;
        }
        cache.modify(c -> {
            Map<String, WorkloadX509Svid> kept = new LinkedHashMap<>();
            c.svids().forEach((id, s) -> {
                if (now.isBefore(s.chain().get(0).getNotAfter().toInstant())) {
                    kept.put(id, s);
                }
            });
            return new CacheContents(c.bundle(), c.federatedBundles(), c.entries(), kept);
        });
    }

    private static Optional<String> entryIdFor(IdentityCache cache, SpiffeId id) {
        if (cache == null) {
            return Optional.empty();
        }
        return cache.contents().flatMap(c -> c.entries().stream().filter(e -> e.spiffeId().equals(id))
                .map(WorkloadEntry::entryId).findFirst());
    }

    private static SpiffeBundle readTrustBundle(AgentSettings settings) throws AgentStartException {
        Path file = settings.trustBundlePath().orElseThrow();
        try {
            if (Files.size(file) > MAX_TRUST_BUNDLE_BYTES) {
                throw new AgentStartException("trust_bundle_path " + file + " is larger than "
                        + MAX_TRUST_BUNDLE_BYTES + " bytes");
            }
            List<X509Certificate> certs = new ArrayList<>();
            for (var cert : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file)))) {
                certs.add((X509Certificate) cert);
            }
            if (certs.isEmpty()) {
                throw new AgentStartException("trust_bundle_path " + file + " holds no certificate");
            }
            return SpiffeBundle.of(settings.trustDomain(), certs, Map.of());
        } catch (IOException e) {
            throw new AgentStartException("cannot read trust_bundle_path " + file + ": " + e.getMessage(), e);
        } catch (CertificateException | IllegalArgumentException e) {
            throw new AgentStartException("trust_bundle_path " + file + " is not a PEM bundle of CA certificates: "
                    + e.getMessage(), e);
        }
    }

    private void closeQuietly() {
        try {
            workloadApi.close();
        } catch (IOException e) {
            LOG.warn("closing the Workload API: {}", e.getMessage());
        }
        connection.close();
    }

    /** Stops syncing, the health listener and the Workload API (its socket and lock file go); safe to call twice. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (health != null) {
            health.close();
        }
        closeQuietly();
        tpm.ifPresent(NodeTpm::close);
    }
}
