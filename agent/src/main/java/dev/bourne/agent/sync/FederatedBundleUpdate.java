package dev.bourne.agent.sync;

import dev.bourne.core.bundle.SpiffeBundle;
import java.util.Objects;

/**
 * A federated bundle the server sent: the bundle of a trust domain some entry of the agent federates with, and the
 * digest the server computed for this version of it. The agent sends the digest back on every sync, so the server
 * sends the bundle again only when it changed (a peer's CA rotation).
 *
 * @param bundle the federated bundle
 * @param digest the server's digest of it, lowercase hex; opaque to the agent
 */
public record FederatedBundleUpdate(SpiffeBundle bundle, String digest) {
    public FederatedBundleUpdate {
        Objects.requireNonNull(bundle, "bundle");
        Objects.requireNonNull(digest, "digest");
    }
}
