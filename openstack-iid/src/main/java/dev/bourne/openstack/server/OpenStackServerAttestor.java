package dev.bourne.openstack.server;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.openstack.server.IidAttestationException.Kind;
import dev.bourne.openstack.server.JtiLedger.LedgerUnavailableException;
import dev.bourne.openstack.server.NovaServers.NovaServer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The server half of OpenStack IID node attestation (ARCHITECTURE.md section 3, "OpenStack IID"): admits a node on
 * the strength of an instance identity document signed by the vendordata service.
 *
 * <p>One step, no challenge: {@link #attest} takes the agent's payload (the compact JWS), has {@link IidVerifier}
 * check that it is authentic and current, then checks, in this order: the project is allowed; the {@code jti} was never
 * used (recorded in the {@link JtiLedger} shared by all servers, so a document attests once, across servers and
 * restarts); and, with {@code nova_check}, that Nova knows the instance, it is {@code ACTIVE} and in the same project.
 * The jti is consumed before Nova is asked so that a replayed document cannot make the server query Nova. Every check
 * fails closed: a ledger or Nova that cannot answer refuses the attestation (UNAVAILABLE, so the agent retries).
 *
 * <p>The result names the agent ({@code <project>/<instance>}, for {@code spiffe://<td>/spire/agent/openstack_iid/...})
 * and carries selector values; trust on first use per instance is the appliance's (it knows which agents exist).
 *
 * <p>Thread-safe: concurrent attestations share the key cache of the {@link JwksSource}.
 */
public final class OpenStackServerAttestor {

    public static final String PROJECT_NOT_ALLOWED = "the instance's project is not allowed to attest";
    public static final String JTI_REUSED = "the instance identity document was already used";
    public static final String LEDGER_UNAVAILABLE = "the server cannot record the document's use now; try again later";
    public static final String NOVA_UNKNOWN_INSTANCE = "Nova has no such instance";
    public static final String NOVA_NOT_ACTIVE = "the instance is not ACTIVE in Nova";
    public static final String NOVA_OTHER_PROJECT = "Nova says the instance belongs to another project";
    public static final String NOVA_UNAVAILABLE = "Nova cannot be asked about the instance now; try again later";
    /** Nova's status of a running instance. */
    public static final String ACTIVE = "ACTIVE";
    /** A {@code nova_check} whose client cannot be built from the settings (a bad {@code ca_file}). */
    public static final String NOVA_CLIENT_FAILED = "cannot set up the Nova client: %s";

    private final OpenStackServerSettings settings;
    private final IidVerifier verifier;
    private final JtiLedger ledger;
    private final Optional<NovaServers> nova;
    private final Set<String> metadataKeys;

    /**
     * @param settings the validated plugin settings
     * @param keys the signing service's public keys
     * @param ledger where used jtis are recorded
     * @param nova Nova's view of instances: present exactly when {@code settings.novaCheck()}
     * @param clock the time documents are checked against
     */
    public OpenStackServerAttestor(OpenStackServerSettings settings, JwksSource keys, JtiLedger ledger,
            Optional<NovaServers> nova, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.verifier = IidVerifier.of(settings, keys, clock);
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.nova = Objects.requireNonNull(nova, "nova");
        if (settings.novaCheck() != nova.isPresent()) {
            throw new IllegalArgumentException(settings.novaCheck() ? "nova_check needs a Nova client"
                    : "a Nova client is given but nova_check is false");
        }
        this.metadataKeys = Set.copyOf(settings.metadataKeys());
    }

    /**
     * Validates {@code plugin}'s {@code plugin_data}, reads the Nova secret, the JWK set CA and (once) the JWK set,
     * and builds the attestor: what the server's composition root calls for {@code NodeAttestor "openstack_iid"}.
     * Every configuration error at once, with its key.
     *
     * @param novaFactory builds the Nova client when {@code nova_check} is true (production:
     *     {@code s -> new KeystoneNovaServers(s, clock)})
     */
    public static ConfigResult<OpenStackServerAttestor> configure(PluginConfig plugin, TrustDomain trustDomain,
            JtiLedger ledger, Function<NovaSettings, NovaServers> novaFactory, Clock clock) {
        Objects.requireNonNull(novaFactory, "novaFactory");
        ConfigResult<OpenStackServerSettings> validated = OpenStackServerSettings.validate(plugin, trustDomain);
        if (!(validated instanceof ConfigResult.Valid<OpenStackServerSettings> valid)) {
            return new ConfigResult.Invalid<>(validated.errors());
        }
        OpenStackServerSettings settings = valid.settings();
        List<ConfigError> errors = new ArrayList<>();
        List<ConfigError> warnings = new ArrayList<>(valid.warnings());

        Optional<NovaServers> nova = Optional.empty();
        ConfigResult<Optional<NovaSettings>> novaSettings = settings.loadNovaSettings(plugin);
        if (novaSettings instanceof ConfigResult.Valid<Optional<NovaSettings>> loaded) {
            if (loaded.settings().isPresent()) {
                try {
                    nova = Optional.of(Objects.requireNonNull(novaFactory.apply(loaded.settings().get()), "nova"));
                } catch (RuntimeException e) {
                    errors.add(new ConfigError(plugin.file(), plugin.keyPath() + "." + OpenStackServerSettings.NOVA,
                            String.format(NOVA_CLIENT_FAILED, e.getMessage())));
                }
            }
        } else {
            errors.addAll(novaSettings.errors());
        }

        ConfigResult<JwksSource> keys = JwksSource.configure(settings, plugin, clock);
        errors.addAll(keys.errors());
        if (!errors.isEmpty()) {
            return new ConfigResult.Invalid<>(errors);
        }
        ConfigResult.Valid<JwksSource> source = (ConfigResult.Valid<JwksSource>) keys;
        warnings.addAll(source.warnings());
        return new ConfigResult.Valid<>(new OpenStackServerAttestor(settings, source.settings(), ledger, nova, clock),
                warnings);
    }

    public OpenStackServerSettings settings() {
        return settings;
    }

    /**
     * A node admitted by its instance identity document.
     *
     * @param projectId the instance's project: the first agent ID segment after {@code openstack_iid}
     * @param instanceId the instance UUID: the last agent ID segment
     * @param selectorValues {@code project_id:<p>}, {@code instance_id:<i>}, {@code image_id:<img>} (when the instance
     *     boots from an image), {@code hostname:<h>}, and {@code meta:<k>:<v>} for the configured metadata keys present
     * @param evidence for the audit log: {@code jti=<jti> kid=<kid> project=<p> instance=<i>}, never the document
     * @param claims the verified claims
     */
    public record Attested(String projectId, String instanceId, List<String> selectorValues, String evidence,
            IidClaims claims) {
        public Attested {
            Objects.requireNonNull(projectId, "projectId");
            Objects.requireNonNull(instanceId, "instanceId");
            selectorValues = List.copyOf(selectorValues);
            Objects.requireNonNull(evidence, "evidence");
            Objects.requireNonNull(claims, "claims");
        }
    }

    /**
     * Attests a node from its payload: the compact JWS as UTF-8 bytes.
     *
     * @throws IidAttestationException INVALID_REQUEST for a malformed or oversized document; REJECTED for one that is
     *     not authentic, not current, already used, of a project not allowed, or (with the Nova check) of an instance
     *     Nova does not know as ACTIVE in that project; UNAVAILABLE when the keys, the ledger or Nova cannot answer
     */
    public Attested attest(byte[] payload) throws IidAttestationException {
        IidVerifier.Verified verified = verifier.verify(payload);
        IidClaims claims = verified.claims();
        if (!settings.projects().contains(claims.projectId())) {
            throw new IidAttestationException(Kind.REJECTED, PROJECT_NOT_ALLOWED);
        }
        consumeJti(claims);
        if (nova.isPresent()) {
            checkNova(nova.get(), claims);
        }
        return new Attested(claims.projectId(), claims.instanceId(), selectorValues(claims),
                "jti=" + claims.jti() + " kid=" + verified.kid() + " project=" + claims.projectId() + " instance="
                        + claims.instanceId(), claims);
    }

    private void consumeJti(IidClaims claims) throws IidAttestationException {
        boolean first;
        try {
            // Kept until the document can no longer pass the exp check, skew included.
            first = ledger.consume(claims.issuer(), claims.jti(), claims.expiresAt().plus(settings.maxClockSkew()));
        } catch (LedgerUnavailableException | RuntimeException e) {
            throw new IidAttestationException(Kind.UNAVAILABLE, LEDGER_UNAVAILABLE, e);
        }
        if (!first) {
            throw new IidAttestationException(Kind.REJECTED, JTI_REUSED);
        }
    }

    private static void checkNova(NovaServers novaServers, IidClaims claims) throws IidAttestationException {
        Optional<NovaServer> server;
        try {
            server = novaServers.find(claims.instanceId());
        } catch (NovaUnavailableException | RuntimeException e) {
            // Fail closed: an instance Nova cannot vouch for now is not admitted now.
            throw new IidAttestationException(Kind.UNAVAILABLE, NOVA_UNAVAILABLE, e);
        }
        if (server.isEmpty() || !server.get().id().equals(claims.instanceId())) {
            throw new IidAttestationException(Kind.REJECTED, NOVA_UNKNOWN_INSTANCE);
        }
        if (!ACTIVE.equals(server.get().status())) {
            throw new IidAttestationException(Kind.REJECTED, NOVA_NOT_ACTIVE);
        }
        if (!claims.projectId().equals(server.get().projectId())) {
            throw new IidAttestationException(Kind.REJECTED, NOVA_OTHER_PROJECT);
        }
    }

    private List<String> selectorValues(IidClaims claims) {
        List<String> values = new ArrayList<>();
        values.add("project_id:" + claims.projectId());
        values.add("instance_id:" + claims.instanceId());
        if (!claims.imageId().isEmpty()) {
            values.add("image_id:" + claims.imageId());
        }
        values.add("hostname:" + claims.hostname());
        for (Map.Entry<String, String> item : claims.metadata().entrySet()) {
            if (metadataKeys.contains(item.getKey())) {
                values.add("meta:" + item.getKey() + ":" + item.getValue());
            }
        }
        return values;
    }
}
