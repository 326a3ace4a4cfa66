package dev.bourne.agent.node;

import dev.bourne.openstack.agent.IidFetchException;
import dev.bourne.openstack.agent.VendorDataClient;
import dev.bourne.openstack.common.OpenStackIid;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * OpenStack IID node attestation (issue 6, docs/openstack.md) as the agent's {@link NodeAttestor}: the payload is a
 * fresh instance identity document, read from the metadata service's {@code vendor_data2.json} at every attestation
 * (documents are single use and live minutes); the server sends no challenges.
 *
 * <p>The attestor is {@link #reusable()}: a new document can always be fetched, so an agent the server evicted (or
 * whose SVID expired while the server forgot it) attests again by itself. The server decides whether an instance may
 * attest a second time (trust on first use: only after an eviction).
 */
public final class OpenStackNodeAttestor implements NodeAttestor {
    public static final String NAME = OpenStackIid.PLUGIN_NAME;
    public static final String FETCH_FAILED = "the instance identity document cannot be read (retrying): ";
    public static final String UNEXPECTED_CHALLENGE = "openstack_iid attestation has no challenges";

    private final VendorDataClient client;

    public OpenStackNodeAttestor(VendorDataClient client) {
        this.client = Objects.requireNonNull(client, "client");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte[] payload() throws NodeAttestationException {
        try {
            return client.fetchDocument().getBytes(StandardCharsets.US_ASCII);
        } catch (IidFetchException e) {
            throw new NodeAttestationException(FETCH_FAILED + e.getMessage(), e);
        }
    }

    @Override
    public byte[] answer(byte[] challenge) throws NodeAttestationException {
        throw new NodeAttestationException(UNEXPECTED_CHALLENGE);
    }

    @Override
    public boolean reusable() {
        return true;
    }

    @Override
    public String toString() {
        return "OpenStackNodeAttestor[" + client + "]";
    }
}
