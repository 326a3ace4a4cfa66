package dev.bourne.appliance.server;

import dev.bourne.appliance.agentapi.AgentApiServer;
import dev.bourne.appliance.agentapi.AgentAttestation;
import dev.bourne.appliance.agentapi.AgentAuthenticator;
import dev.bourne.appliance.agentapi.AuditLog;
import dev.bourne.appliance.agentapi.AuthorizedEntries;
import dev.bourne.appliance.agentapi.EntrySvids;
import dev.bourne.appliance.attestation.AttestationException;
import dev.bourne.appliance.attestation.JoinTokenAttestor;
import dev.bourne.appliance.attestation.NodeAttestor;
import dev.bourne.appliance.attestation.NodeAttestors;
import dev.bourne.appliance.attestation.OpenStackNodeAttestor;
import dev.bourne.appliance.attestation.TpmNodeAttestor;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CaManagers;
import dev.bourne.appliance.ca.CaOptions;
import dev.bourne.appliance.ca.CaRotationScheduler;
import dev.bourne.appliance.ca.JwtSvidIssuer;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.appliance.datastore.SqlDataStoreSettings;
import dev.bourne.appliance.federation.BundleEndpointServer;
import dev.bourne.appliance.federation.FederationEndpoints;
import dev.bourne.appliance.federation.OidcDiscoveryServer;
import dev.bourne.appliance.federation.BundleFetcher;
import dev.bourne.appliance.federation.FederationClientSettings;
import dev.bourne.appliance.federation.FederationRefresher;
import dev.bourne.appliance.health.HealthServer;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.BundleEndpointSettings;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.keymanager.KeyManagers;
import dev.bourne.openstack.server.KeystoneNovaServers;
import dev.bourne.openstack.server.OpenStackServerAttestor;
import dev.bourne.openstack.server.OpenStackServerSettings;
import dev.bourne.tpm.server.TpmServerAttestor;
import dev.bourne.tpm.server.TpmServerSettings;
import io.grpc.health.v1.HealthCheckResponse;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Bourne server process: the composition root that wires validated settings into running components, in order:
 * datastore, key manager, metrics and health listeners, then the CA (journal in the datastore), the server SVID, the
 * agent API on TCP, the federation client, the admin API on its Unix socket, and the federation bundle endpoint and
 * OIDC discovery listeners when configured.
 *
 * <p>When the key manager cannot serve yet (an HSM that is down or unreachable), the server does not fail: it starts,
 * reports not-ready with the key manager's reason on {@code /ready}, and retries the CA every
 * {@link #CA_RETRY_INTERVAL}; the agent and admin APIs open once the CA is active. Every other start-up failure is
 * fatal and closes what was opened.
 */
public final class BourneServer implements AutoCloseable {
    public static final Duration CA_RETRY_INTERVAL = Duration.ofSeconds(5);
    /** How often expired join tokens are deleted. */
    public static final Duration PRUNE_INTERVAL = Duration.ofHours(1);
    /** Federated bundle fetches in progress at once. */
    public static final int FEDERATION_FETCH_THREADS = 4;
    /** Node attestations in progress at once; more are refused with UNAVAILABLE until one ends. */
    public static final int MAX_CONCURRENT_ATTESTATIONS = 64;

    public static final String NOT_BUILT_IN = "node attestor is not available in this server build (built in: %s)";
    public static final String NOT_READY_DATASTORE = "datastore is not reachable";
    public static final String NOT_READY_KEY_MANAGER = "key manager %s is %s: %s";
    public static final String NOT_READY_CA = "the CA has no active X.509 authority";
    public static final String NOT_READY_STARTING = "the CA is not started yet: %s";
    public static final String NOT_READY_FEDERATION = "the federation bundle endpoint and OIDC discovery listeners are"
            + " not serving yet";

    private static final Logger LOG = LoggerFactory.getLogger(BourneServer.class);

    private final ServerSettings settings;
    private final Clock clock;
    private final SecureRandom random;
    private final AdminServicesFactory adminServices;
    private final List<NodeAttestor> extraAttestors;
    private final ServerMetrics metrics = new ServerMetrics();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final ScheduledExecutorService retry;
    private final ScheduledExecutorService maintenance;

    private DataStore dataStore;
    private KeyManager keyManager;
    private HealthServer health;
    private HealthServer metricsServer;
    private volatile CaManager ca;
    private volatile String caProblem = "starting";
    private CaRotationScheduler rotation;
    private ServerSvid serverSvid;
    private volatile AgentApiServer agentApi;
    private AdminSocketServer adminSocket;
    private volatile FederationEndpoints federationEndpoints;
    private BundleFetcher bundleFetcher;
    private ExecutorService federationExecutor;
    private volatile FederationRefresher federation;
    private boolean closed;

    private BourneServer(ServerSettings settings, Clock clock, SecureRandom random,
            AdminServicesFactory adminServices, List<NodeAttestor> extraAttestors) {
        this.settings = settings;
        this.clock = clock;
        this.random = random;
        this.adminServices = adminServices;
        this.extraAttestors = List.copyOf(extraAttestors);
        this.retry = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "bourne-server-start");
            thread.setDaemon(true);
            return thread;
        });
        this.maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "bourne-server-maintenance");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts a server with a fresh {@link SecureRandom} and no admin services beyond health. */
    public static BourneServer start(ServerSettings settings, Clock clock) throws ConfigException,
            ServerStartException {
        return start(settings, clock, new SecureRandom(), AdminServicesFactory.NONE);
    }

    /**
     * Validates the plugin data {@code settings} cannot check (key manager, datastore, node attestors), reporting every
     * error at once, then starts the server.
     *
     * @throws ConfigException listing every configuration error, with key and reason
     * @throws ServerStartException when a component cannot start (message names which and why)
     */
    public static BourneServer start(ServerSettings settings, Clock clock, SecureRandom random,
            AdminServicesFactory adminServices) throws ConfigException, ServerStartException {
        return startWithAttestors(settings, clock, random, adminServices, List.of());
    }

    /**
     * {@link #start(ServerSettings, Clock, SecureRandom, AdminServicesFactory)} with {@code extraAttestors} in the node
     * attestor catalog beside the configured ones, wired exactly as they are (audit, datastore, continuous
     * attestation). For tests only, which plug in attestor pairs that cannot exist in production: no configuration
     * file can reach this, and {@code bourne-server run} never calls it.
     *
     * @throws IllegalArgumentException (at CA start) when an extra attestor has the name of a configured one
     */
    public static BourneServer startWithAttestors(ServerSettings settings, Clock clock, SecureRandom random,
            AdminServicesFactory adminServices, List<NodeAttestor> extraAttestors) throws ConfigException,
            ServerStartException {
        SqlDataStoreSettings dataStoreSettings = validate(settings);
        BourneServer server = new BourneServer(settings, clock, random, adminServices, extraAttestors);
        try {
            server.open(dataStoreSettings);
            return server;
        } catch (ConfigException | ServerStartException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * Checks the plugin data of the datastore, key manager and node attestors; returns the datastore settings.
     *
     * @throws ConfigException with every error found
     */
    public static SqlDataStoreSettings validate(ServerSettings settings) throws ConfigException {
        List<ConfigError> errors = new ArrayList<>();
        SqlDataStoreSettings dataStore = null;
        for (PluginConfig plugin : settings.plugins()) {
            switch (plugin.type()) {
                case KeyManagers.PLUGIN_TYPE -> errors.addAll(KeyManagers.validate(plugin, settings.dataDir()));
                case "DataStore" -> {
                    ConfigResult<SqlDataStoreSettings> result = SqlDataStoreSettings.fromPlugin(plugin);
                    errors.addAll(result.errors());
                    if (result instanceof ConfigResult.Valid<SqlDataStoreSettings> valid) {
                        dataStore = valid.settings();
                    }
                }
                case NodeAttestors.PLUGIN_TYPE -> {
                    ConfigReader data = plugin.pluginDataReader();
                    if (!NodeAttestors.BUILT_INS.contains(plugin.name())) {
                        errors.add(new ConfigError(plugin.file(), "plugins." + plugin.type() + "." + plugin.name(),
                                String.format(NOT_BUILT_IN, String.join(", ", NodeAttestors.BUILT_INS))));
                    } else if (plugin.name().equals(TpmNodeAttestor.NAME)) {
                        errors.addAll(tpmErrors(plugin));
                    } else if (plugin.name().equals(OpenStackNodeAttestor.NAME)) {
                        errors.addAll(OpenStackServerSettings.validate(plugin, settings.trustDomain()).errors());
                    } else {
                        data.rejectUnknownKeys();
                        errors.addAll(data.errors());
                    }
                }
                default -> {
                    // UpstreamAuthority: validated by CaManagers.start, which reports ConfigException itself.
                }
            }
        }
        errors.addAll(FederationEndpoints.validate(settings,
                settings.plugins().stream().findFirst().map(PluginConfig::file).orElse("")));
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        if (dataStore == null) {
            throw new ConfigException(List.of(new ConfigError("", "plugins.DataStore", "is required")));
        }
        return dataStore;
    }

    private synchronized void open(SqlDataStoreSettings dataStoreSettings) throws ConfigException,
            ServerStartException {
        try {
            dataStore = SqlDataStore.open(dataStoreSettings, clock, random);
        } catch (DataStoreException e) {
            throw new ServerStartException("datastore: " + e.getMessage(), e);
        }
        PluginConfig keyManagerPlugin = settings.plugins().stream()
                .filter(p -> p.type().equals(KeyManagers.PLUGIN_TYPE)).findFirst().orElseThrow();
        try {
            keyManager = KeyManagers.open(keyManagerPlugin, settings.dataDir(), random, clock);
        } catch (ConfigException e) {
            throw e;
        } catch (Exception e) {
            throw new ServerStartException("key manager " + keyManagerPlugin.name() + ": " + e.getMessage(), e);
        }
        KeyManager km = keyManager;
        metrics.keyManagerState(km.name(), () -> km.status().isActive());
        try {
            if (settings.healthChecks().listenerEnabled()) {
                health = HealthServer.health(settings.healthChecks().bindAddress(), settings.healthChecks().bindPort(),
                        settings.healthChecks().livePath(), settings.healthChecks().readyPath(), this::notReady);
            }
            if (settings.prometheus().isPresent()) {
                metricsServer = HealthServer.metrics(settings.prometheus().get().host(),
                        settings.prometheus().get().port(), metrics);
            }
        } catch (java.io.IOException e) {
            throw new ServerStartException("health or metrics listener: " + e.getMessage(), e);
        }
        String serverId;
        try {
            serverId = ServerIds.loadOrCreate(settings.dataDir(), random);
        } catch (java.io.IOException e) {
            throw new ServerStartException("server ID: " + e.getMessage(), e);
        }
        maintenance.scheduleWithFixedDelay(this::pruneJoinTokens, 0, PRUNE_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
        if (!tryStartCa(serverId)) {
            LOG.warn("the CA cannot start yet ({}); retrying every {} s while reporting not ready", caProblem,
                    CA_RETRY_INTERVAL.toSeconds());
            retry.scheduleWithFixedDelay(() -> retryCa(serverId), CA_RETRY_INTERVAL.toMillis(),
                    CA_RETRY_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Deletes join tokens that expired: they can no longer be used, and nothing else reads them. */
    private void pruneJoinTokens() {
        try {
            int pruned = dataStore.pruneJoinTokens(clock.instant());
            if (pruned > 0) {
                LOG.info("deleted {} expired join tokens", pruned);
            }
        } catch (DataStoreException | RuntimeException e) {
            LOG.warn("cannot prune expired join tokens: {}", e.toString());
        }
    }

    private void retryCa(String serverId) {
        try {
            if (ca == null && tryStartCa(serverId)) {
                LOG.info("the CA started after waiting for the key manager");
                retry.shutdown();
            }
        } catch (Exception e) {
            LOG.error("server start-up failed after the CA became available: {}", e.toString());
            close();
        }
    }

    /**
     * Starts the CA and what depends on it. Returns false (leaving the reason in {@link #caProblem}) when the key
     * manager is not active yet, so the caller retries; throws for anything else.
     */
    private synchronized boolean tryStartCa(String serverId) throws ConfigException, ServerStartException {
        if (closed) {
            return true;
        }
        CaManager started;
        try {
            started = CaManagers.start(settings, keyManager, settings.federation().bundleEndpoint()
                    .map(BundleEndpointSettings::refreshHint).orElse(CaOptions.DEFAULT_REFRESH_HINT),
                    new DataStoreCaJournal(dataStore, serverId), clock, random);
        } catch (dev.bourne.appliance.ca.CaException e) {
            // Only a key manager that cannot serve (HSM down) is worth waiting for; any other CA failure is fatal.
            if (!keyManager.status().isActive()) {
                caProblem = e.getMessage();
                return false;
            }
            throw new ServerStartException("CA: " + e.getMessage(), e);
        }
        ca = started;
        caProblem = "";
        rotation = CaRotationScheduler.start(started, CaRotationScheduler.DEFAULT_INTERVAL);
        X509SvidIssuer x509Issuer = new X509SvidIssuer(settings.trustDomain(), clock, random);
        JwtSvidIssuer jwtIssuer = new JwtSvidIssuer(settings.trustDomain(), clock);
        try {
            serverSvid = ServerSvid.start(started, x509Issuer, settings.defaultX509SvidTtl(), clock, random,
                    metrics);
        } catch (Exception e) {
            throw new ServerStartException("server SVID: " + e.getMessage(), e);
        }
        NodeAttestors attestors = new NodeAttestors(settings.trustDomain(), nodeAttestors());
        AuditLog audit = new AuditLog(settings.auditLogEnabled(), attestors::loggable);
        AgentAttestation attestation = new AgentAttestation(attestors, dataStore, started, x509Issuer,
                settings.agentTtl(), audit, metrics, clock);
        EntrySvids svids = new EntrySvids(dataStore, new AuthorizedEntries(dataStore, settings.trustDomain()),
                started, x509Issuer, jwtIssuer, settings.defaultX509SvidTtl(), settings.defaultJwtSvidTtl(),
                settings.jwtIssuer(), audit, metrics);
        AtomicInteger threads = new AtomicInteger();
        // Bounded: an attestation may wait for challenge answers, and unauthenticated callers must not be able to
        // make the server start threads without limit. Beyond the bound, AttestAgent answers UNAVAILABLE.
        ExecutorService attestationExecutor = new ThreadPoolExecutor(0, MAX_CONCURRENT_ATTESTATIONS, 60,
                TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
                    Thread thread = new Thread(r, "bourne-attestation-" + threads.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        try {
            agentApi = AgentApiServer.start(settings.bindAddress(), settings.bindPort(), serverSvid, attestation,
                    svids, new AgentAuthenticator(started, dataStore, clock), started, metrics, clock,
                    attestationExecutor);
        } catch (java.io.IOException e) {
            attestationExecutor.shutdownNow();
            throw new ServerStartException("agent API on " + settings.bindAddress() + ":" + settings.bindPort()
                    + ": " + e.getMessage(), e);
        }
        FederationRefresher refresher = startFederation(started);
        try {
            List<io.grpc.BindableService> services = new ArrayList<>(
                    adminServices.create(dataStore, started, settings, clock, random));
            if (adminServices != AdminServicesFactory.NONE) {
                // The federation client belongs to this server, so its admin service is added here.
                services.add(dev.bourne.appliance.admin.AdminServices.trustDomain(dataStore, settings.trustDomain(),
                        refresher));
            }
            adminSocket = AdminSocketServer.start(settings.socketPath(), services);
            adminSocket.health().setStatus("", HealthCheckResponse.ServingStatus.SERVING);
        } catch (java.io.IOException e) {
            throw new ServerStartException("admin socket: " + e.getMessage(), e);
        }
        if (settings.federation().bundleEndpoint().isPresent() || settings.oidcDiscovery().isPresent()) {
            try {
                federationEndpoints = FederationEndpoints.start(settings, started, serverSvid, clock);
            } catch (java.io.IOException e) {
                throw new ServerStartException("federation listeners: " + e.getMessage(), e);
            }
        }
        return true;
    }

    /**
     * Starts the federation client: every federation relationship's bundle is fetched on its own schedule, from now
     * until the server stops. Several fetches may run at once ({@link #FEDERATION_FETCH_THREADS}); each is bounded in
     * time by the fetcher.
     */
    private FederationRefresher startFederation(CaManager started) {
        // The peers' refresh hints are clamped to the configured federation { min/max_refresh_interval }.
        FederationClientSettings federationSettings = FederationClientSettings.DEFAULTS.withRefreshIntervals(
                settings.federation().minRefreshInterval(), settings.federation().maxRefreshInterval());
        bundleFetcher = new BundleFetcher(federationSettings.fetchTimeout(), federationSettings.extraWebRoots(),
                clock);
        AtomicInteger threads = new AtomicInteger();
        federationExecutor = Executors.newFixedThreadPool(FEDERATION_FETCH_THREADS, r -> {
            Thread thread = new Thread(r, "bourne-federation-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        FederationRefresher refresher = new FederationRefresher(dataStore, bundleFetcher, settings.trustDomain(),
                started::bundle, federationSettings, clock, random, federationExecutor, metrics);
        refresher.start(maintenance);
        federation = refresher;
        return refresher;
    }

    /**
     * The {@code tpm} attestor's configuration errors: its plugin data, then (when that is valid) the manufacturer CA
     * certificates it names, which must be readable.
     */
    private static List<ConfigError> tpmErrors(PluginConfig plugin) {
        ConfigResult<TpmServerSettings> result = TpmServerSettings.validate(plugin);
        if (result instanceof ConfigResult.Valid<TpmServerSettings> valid) {
            return valid.settings().loadEkCaStore(plugin, Clock.systemUTC()).errors();
        }
        return result.errors();
    }

    /** The node attestor named {@code tpm}, its enrolments and AK bindings in this server's datastore. */
    private TpmNodeAttestor tpmAttestor(PluginConfig plugin) throws ConfigException {
        DataStore store = dataStore;
        DataStoreTpmEnrollments enrollments = new DataStoreTpmEnrollments(store);
        ConfigResult<TpmServerAttestor> engine = TpmServerAttestor.configure(plugin, enrollments, clock, random);
        if (!(engine instanceof ConfigResult.Valid<TpmServerAttestor> valid)) {
            throw new ConfigException(engine.errors());
        }
        return new TpmNodeAttestor(settings.trustDomain(), valid.settings(), enrollments,
                new DataStoreTpmAkBindings(store));
    }

    /**
     * The node attestor named {@code openstack_iid}: its jti ledger in this server's datastore, Nova reached through
     * Keystone when {@code nova_check} is on.
     */
    private OpenStackNodeAttestor openStackAttestor(PluginConfig plugin) throws ConfigException {
        ConfigResult<OpenStackServerAttestor> engine = OpenStackServerAttestor.configure(plugin,
                settings.trustDomain(), new DataStoreJtiLedger(dataStore),
                nova -> new KeystoneNovaServers(nova, clock), clock);
        if (!(engine instanceof ConfigResult.Valid<OpenStackServerAttestor> valid)) {
            throw new ConfigException(engine.errors());
        }
        return new OpenStackNodeAttestor(settings.trustDomain(), valid.settings());
    }

    private List<NodeAttestor> nodeAttestors() throws ConfigException {
        List<NodeAttestor> attestors = new ArrayList<>();
        for (PluginConfig plugin : settings.plugins()) {
            if (plugin.type().equals(NodeAttestors.PLUGIN_TYPE) && plugin.name().equals(OpenStackNodeAttestor.NAME)) {
                attestors.add(openStackAttestor(plugin));
            }
            if (plugin.type().equals(NodeAttestors.PLUGIN_TYPE) && plugin.name().equals(TpmNodeAttestor.NAME)) {
                attestors.add(tpmAttestor(plugin));
            }
            if (plugin.type().equals(NodeAttestors.PLUGIN_TYPE) && plugin.name().equals(JoinTokenAttestor.NAME)) {
                DataStore store = dataStore;
                attestors.add(new JoinTokenAttestor(settings.trustDomain(), token -> {
                    try {
                        return store.takeJoinToken(token);
                    } catch (DataStoreException e) {
                        throw new AttestationException(AttestationException.Reason.UNAVAILABLE,
                                "join tokens cannot be read now", e);
                    }
                }, clock));
            }
        }
        attestors.addAll(extraAttestors);
        return attestors;
    }

    /** What keeps the server from being ready, one line each; empty when ready. */
    public List<String> notReady() {
        List<String> problems = new ArrayList<>();
        try {
            dataStore.lastEventId();
        } catch (DataStoreException | RuntimeException e) {
            problems.add(NOT_READY_DATASTORE);
        }
        KeyManagerStatus status = keyManager.status();
        if (!status.isActive()) {
            problems.add(String.format(NOT_READY_KEY_MANAGER, keyManager.name(), status.state(), status.reason()));
        }
        CaManager current = ca;
        if (current == null) {
            problems.add(String.format(NOT_READY_STARTING, caProblem));
        } else if (!current.activeX509Authority().notAfter().isAfter(clock.instant())) {
            problems.add(NOT_READY_CA);
        }
        if ((settings.federation().bundleEndpoint().isPresent() || settings.oidcDiscovery().isPresent())
                && federationEndpoints == null) {
            problems.add(NOT_READY_FEDERATION);
        }
        return problems;
    }

    /** The agent API's bound port; empty while the CA has not started. */
    public Optional<Integer> agentApiPort() {
        AgentApiServer api = agentApi;
        return api == null ? Optional.empty() : Optional.of(api.port());
    }

    /** The health listener's bound port, when enabled. */
    public Optional<Integer> healthPort() {
        return Optional.ofNullable(health).map(HealthServer::port);
    }

    /** The Prometheus listener's bound port, when configured. */
    public Optional<Integer> metricsPort() {
        return Optional.ofNullable(metricsServer).map(HealthServer::port);
    }

    /** The federation bundle endpoint's bound port, when configured and started. */
    public Optional<Integer> bundleEndpointPort() {
        FederationEndpoints endpoints = federationEndpoints;
        return endpoints == null ? Optional.empty() : endpoints.bundleEndpoint().map(BundleEndpointServer::port);
    }

    /** The OIDC discovery listener's bound port, when configured and started. */
    public Optional<Integer> oidcDiscoveryPort() {
        FederationEndpoints endpoints = federationEndpoints;
        return endpoints == null ? Optional.empty() : endpoints.oidcDiscovery().map(OidcDiscoveryServer::port);
    }

    /** The server's datastore (for in-process admin tooling and tests). */
    public DataStore dataStore() {
        return dataStore;
    }

    /** The CA; empty while it waits for the key manager. */
    public Optional<CaManager> ca() {
        return Optional.ofNullable(ca);
    }

    /** The federation client; empty while the CA has not started. */
    public Optional<FederationRefresher> federation() {
        return Optional.ofNullable(federation);
    }

    /** The server SVID source; null while the CA has not started. */
    synchronized ServerSvid serverSvid() {
        return serverSvid;
    }

    public ServerMetrics metrics() {
        return metrics;
    }

    public ServerSettings settings() {
        return settings;
    }

    /** Blocks until {@link #close()} completed. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** Stops every component in reverse order of start; safe to call twice. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        retry.shutdownNow();
        maintenance.shutdownNow();
        closeQuietly("federation listeners", federationEndpoints == null ? null : federationEndpoints::close);
        closeQuietly("admin socket", adminSocket == null ? null : adminSocket::close);
        closeQuietly("agent API", agentApi == null ? null : agentApi::close);
        closeQuietly("federation client", federation == null ? null : federation::close);
        closeQuietly("federation fetches", federationExecutor == null ? null : federationExecutor::shutdownNow);
        closeQuietly("bundle fetcher", bundleFetcher == null ? null : bundleFetcher::close);
        closeQuietly("server SVID", serverSvid == null ? null : serverSvid::close);
        closeQuietly("CA rotation", rotation == null ? null : rotation::close);
        closeQuietly("CA", ca == null ? null : ca::close);
        closeQuietly("metrics listener", metricsServer == null ? null : metricsServer::close);
        closeQuietly("health listener", health == null ? null : health::close);
        closeQuietly("key manager", keyManager == null ? null : keyManager::close);
        closeQuietly("datastore", dataStore == null ? null : dataStore::close);
        metrics.close();
        terminated.countDown();
        LOG.info("server stopped");
    }

    private interface Closer {
        void close() throws Exception;
    }

    private static void closeQuietly(String what, Closer closer) {
        if (closer == null) {
            return;
        }
        try {
            closer.close();
        } catch (Exception e) {
            LOG.warn("closing the {} failed: {}", what, e.toString());
        }
    }

    /**
     * Runs a server until the JVM is asked to stop (SIGTERM, SIGINT), for {@code bourne-server run}: returns 0 after a
     * clean shutdown, or 1 after logging why the server could not start (each configuration error on its own line).
     */
    public static int runUntilSignal(ServerSettings settings) {
        BourneServer server;
        try {
            server = start(settings, Clock.systemUTC());
        } catch (ConfigException e) {
            for (ConfigError error : e.errors()) {
                LOG.error("configuration error: {}", error);
            }
            return 1;
        } catch (ServerStartException e) {
            LOG.error("the server could not start: {}", e.getMessage());
            return 1;
        }
        Thread hook = new Thread(server::close, "bourne-server-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            server.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.close();
        }
        return 0;
    }
}
