package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.NodeCertificate;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a TLS client certificate chain is a live agent SVID, as SPIRE does: it chains to the trust
 * domain's current bundle, names an agent ({@code /spire/agent/...}) that the datastore holds as attested and not
 * banned, and its serial number is the node's current agent SVID or the one issued on its last renewal. So an evicted
 * agent, a banned one, and a superseded SVID are all refused. When the agent first uses its renewed SVID, that serial
 * becomes the current one and the old SVID stops working.
 */
public final class AgentAuthenticator {
    public static final String NO_CERTIFICATE = "this call requires an agent SVID as TLS client certificate";
    public static final String NOT_AN_SVID = "the client certificate is not a valid agent SVID of this trust domain";
    public static final String NOT_AN_AGENT = "the client certificate does not name an agent";
    public static final String NOT_ATTESTED = "the agent is not attested (evicted or unknown): attest again";
    public static final String BANNED = "the agent is banned";
    public static final String SUPERSEDED = "the agent SVID is not the node's current one";

    private static final Logger LOG = LoggerFactory.getLogger(AgentAuthenticator.class);

    private final CaManager ca;
    private final DataStore dataStore;
    private final Clock clock;

    public AgentAuthenticator(CaManager ca, DataStore dataStore, Clock clock) {
        this.ca = Objects.requireNonNull(ca, "ca");
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The agent that presented {@code chain} (leaf first), or why it is refused. */
    public CallerAgent authenticate(List<X509Certificate> chain) throws ApiException, DataStoreException {
        if (chain.isEmpty()) {
            throw new ApiException(ApiException.Code.UNAUTHENTICATED, NO_CERTIFICATE);
        }
        X509Svid svid;
        try {
            svid = new X509SvidVerifier(BundleSource.of(List.of(ca.bundle())), clock).verify(chain);
        } catch (X509SvidException e) {
            LOG.debug("client certificate refused: {}", e.getMessage());
            throw new ApiException(ApiException.Code.UNAUTHENTICATED, NOT_AN_SVID);
        }
        SpiffeId id = svid.spiffeId();
        if (!id.hasPathPrefix("spire", "agent") || id.segments().size() < 3) {
            throw new ApiException(ApiException.Code.PERMISSION_DENIED, NOT_AN_AGENT);
        }
        Optional<AttestedNode> found = dataStore.getNode(id);
        if (found.isEmpty()) {
            throw new ApiException(ApiException.Code.PERMISSION_DENIED, NOT_ATTESTED);
        }
        AttestedNode node = found.get();
        if (node.banned()) {
            throw new ApiException(ApiException.Code.PERMISSION_DENIED, BANNED);
        }
        BigInteger serial = svid.leaf().getSerialNumber();
        String decimal = serial.toString();
        if (node.certificate().map(NodeCertificate::serialNumber).filter(decimal::equals).isPresent()) {
            return new CallerAgent(id, node, serial);
        }
        if (node.newCertificate().map(NodeCertificate::serialNumber).filter(decimal::equals).isPresent()) {
            // The agent switched to its renewed SVID: that one becomes current and the old one is retired.
            AttestedNode promoted = dataStore.updateNodeCertificates(id, node.newCertificate(), Optional.empty());
            return new CallerAgent(id, promoted, serial);
        }
        throw new ApiException(ApiException.Code.PERMISSION_DENIED, SUPERSEDED);
    }
}
