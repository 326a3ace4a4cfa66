package dev.bourne.appliance.datastore;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Which attested nodes a listing or count covers; every condition present must hold.
 *
 * @param attestationDataType only nodes attested by this attestor
 * @param banned only banned ({@code true}) or only not banned ({@code false}) nodes
 * @param selectors only nodes whose selector set matches
 * @param certificateExpiresBefore only nodes whose current certificate expires before this instant
 */
public record NodeFilter(Optional<String> attestationDataType, Optional<Boolean> banned,
        Optional<SelectorMatch> selectors, Optional<Instant> certificateExpiresBefore) {

    public NodeFilter {
        Objects.requireNonNull(attestationDataType, "attestationDataType");
        Objects.requireNonNull(banned, "banned");
        Objects.requireNonNull(selectors, "selectors");
        Objects.requireNonNull(certificateExpiresBefore, "certificateExpiresBefore");
    }

    /** Every node. */
    public static NodeFilter all() {
        return new NodeFilter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public NodeFilter withAttestationDataType(String value) {
        return new NodeFilter(Optional.of(value), banned, selectors, certificateExpiresBefore);
    }

    public NodeFilter withBanned(boolean value) {
        return new NodeFilter(attestationDataType, Optional.of(value), selectors, certificateExpiresBefore);
    }

    public NodeFilter withSelectors(SelectorMatch value) {
        return new NodeFilter(attestationDataType, banned, Optional.of(value), certificateExpiresBefore);
    }

    public NodeFilter withCertificateExpiresBefore(Instant value) {
        return new NodeFilter(attestationDataType, banned, selectors, Optional.of(value));
    }
}
