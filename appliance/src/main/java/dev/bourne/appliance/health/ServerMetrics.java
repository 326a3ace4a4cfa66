package dev.bourne.appliance.health;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * The server's Prometheus metrics: SVIDs issued by kind, node attestations and continuous attestations at renewal by
 * attestor and result, RPC latencies by method and status, and whether the key manager is active. One registry per
 * server; {@link #scrape()} is the Prometheus text exposition.
 */
public final class ServerMetrics {
    public static final String SVIDS_ISSUED = "bourne_svids_issued";
    public static final String ATTESTATIONS = "bourne_node_attestations";
    public static final String RENEWAL_ATTESTATIONS = "bourne_renewal_attestations";
    public static final String RPC = "bourne_rpc";
    public static final String KEY_MANAGER_ACTIVE = "bourne_key_manager_active";
    public static final String FEDERATION_FETCHES = "bourne_federation_bundle_fetches";

    /** Kinds of SVID the server issues. */
    public enum SvidKind {
        AGENT("agent"), X509("x509"), JWT("jwt"), SERVER("server");

        private final String label;

        SvidKind(String label) {
            this.label = label;
        }
    }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    public void svidIssued(SvidKind kind) {
        Counter.builder(SVIDS_ISSUED).description("SVIDs issued, by kind").tag("kind", kind.label)
                .register(registry).increment();
    }

    /** One node attestation; {@code result} is {@code success} or the failure reason in lower case. */
    public void attestation(String attestor, String result) {
        Counter.builder(ATTESTATIONS).description("node attestations, by attestor and result")
                .tag("attestor", attestor).tag("result", result).register(registry).increment();
    }

    /**
     * One continuous attestation at agent SVID renewal; {@code result} is {@code success}, {@code no_evidence} or the
     * attestor's failure reason in lower case.
     */
    public void renewalAttestation(String attestor, String result) {
        Counter.builder(RENEWAL_ATTESTATIONS).description("continuous attestations at renewal, by attestor and result")
                .tag("attestor", attestor).tag("result", result).register(registry).increment();
    }

    /** One fetch of a federated trust domain's bundle endpoint; result: stored, unchanged or failed. */
    public void federationFetch(String trustDomain, String result) {
        Counter.builder(FEDERATION_FETCHES).description("federated bundle fetches, by trust domain and result")
                .tag("trust_domain", trustDomain).tag("result", result).register(registry).increment();
    }

    public void rpc(String method, String status, Duration elapsed) {
        Timer.builder(RPC).description("RPC latency, by method and status").tag("method", method)
                .tag("status", status).register(registry).record(elapsed);
    }

    /** Publishes the key manager's state as a 0/1 gauge read at scrape time. */
    public void keyManagerState(String keyManager, BooleanSupplier active) {
        Objects.requireNonNull(active, "active");
        Gauge.builder(KEY_MANAGER_ACTIVE, () -> active.getAsBoolean() ? 1 : 0)
                .description("1 when the key manager is active, else 0").tag("key_manager", keyManager)
                .register(registry);
    }

    /** The Prometheus text format of every metric. */
    public String scrape() {
        return registry.scrape();
    }

    public void close() {
        registry.close();
    }
}
