package dev.bourne.appliance.admin;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.federation.FederationRefresher;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.tpm.server.TpmServerSettings;
import io.grpc.BindableService;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The server's admin API: the bourne.api.v1 Entry, Agent, Bundle, SVID, LocalAuthority and TpmEnrollment services
 * (and TrustDomain, through {@link #trustDomain})
 * as the {@code bourne-server} CLI calls them over the admin Unix socket. The server owns the listener; this class
 * only builds the services. Only operators who can open the admin socket (mode 0770) reach them, so they carry no
 * further authorisation of their own.
 */
public final class AdminServices {

    private AdminServices() {
    }

    /**
     * Builds the admin services over the server's datastore and CA.
     *
     * @param dataStore entries, nodes, join tokens and federated bundles
     * @param ca the local authorities (signs minted SVIDs, answers localauthority calls)
     * @param settings trust domain, CA lifetime and default SVID lifetimes
     * @param clock the time for join token expiry and issued SVIDs
     * @param random the source of join tokens
     * @return the services to add to the admin server, in no particular order
     */
    public static List<BindableService> create(DataStore dataStore, CaManager ca, ServerSettings settings, Clock clock,
            SecureRandom random) {
        return create(dataStore, ca, settings, clock, random, pcrPolicyNames(settings));
    }

    /**
     * The TrustDomain service (federation relationships) over the server's datastore and its federation client. Built
     * apart from {@link #create} because the federation client belongs to the running server.
     *
     * @param trustDomain the server's own trust domain, which no relationship may name
     */
    public static BindableService trustDomain(DataStore dataStore, TrustDomain trustDomain,
            FederationRefresher refresher) {
        return new TrustDomainAdminService(Objects.requireNonNull(dataStore, "dataStore"),
                Objects.requireNonNull(trustDomain, "trustDomain"), Objects.requireNonNull(refresher, "refresher"));
    }

    /**
     * The PCR policy names of the server's {@code tpm} node attestor, which TPM enrolments may name; empty when the
     * server runs no {@code tpm} attestor (or its configuration is invalid: the server then does not start anyway).
     */
    static Optional<Set<String>> pcrPolicyNames(ServerSettings settings) {
        for (PluginConfig plugin : settings.plugins()) {
            if (plugin.type().equals("NodeAttestor") && plugin.name().equals("tpm")
                    && TpmServerSettings.validate(plugin) instanceof ConfigResult.Valid<TpmServerSettings> valid) {
                return Optional.of(Set.copyOf(valid.settings().pcrPolicies().policies().keySet()));
            }
        }
        return Optional.empty();
    }

    /**
     * Like {@link #create(DataStore, CaManager, ServerSettings, Clock, SecureRandom)}, for a server that runs the
     * {@code tpm} node attestor: TPM enrolments may then name only its PCR policies.
     *
     * @param pcrPolicyNames the PCR policy names the {@code tpm} node attestor defines (possibly none); empty when the
     *     server runs no {@code tpm} attestor, and any well-formed policy name is accepted
     */
    public static List<BindableService> create(DataStore dataStore, CaManager ca, ServerSettings settings, Clock clock,
            SecureRandom random, Optional<Set<String>> pcrPolicyNames) {
        Objects.requireNonNull(pcrPolicyNames, "pcrPolicyNames");
        Objects.requireNonNull(dataStore, "dataStore");
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(random, "random");
        EntryValidator validator = new EntryValidator(settings.trustDomain(), settings.caTtl());
        return List.of(
                new EntryAdminService(dataStore, validator),
                new AgentAdminService(dataStore, validator, clock, random),
                new BundleAdminService(dataStore, ca, settings.trustDomain()),
                new SvidAdminService(ca, settings, clock, random),
                new LocalAuthorityAdminService(ca),
                new TpmEnrollmentAdminService(dataStore, pcrPolicyNames, clock));
    }
}
