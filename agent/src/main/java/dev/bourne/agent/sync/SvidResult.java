package dev.bourne.agent.sync;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * The server's answer to one {@link SvidRequest}: the certificate chain, or why it refused.
 *
 * @param entryId the entry it answers
 * @param chain the leaf and intermediates, empty when refused
 * @param error the server's reason when refused
 */
public record SvidResult(String entryId, List<X509Certificate> chain, Optional<String> error) {
    public SvidResult {
        chain = List.copyOf(chain);
        if (chain.isEmpty() == error.isEmpty()) {
            throw new IllegalArgumentException("a result has either a chain or an error");
        }
    }

    public static SvidResult issued(String entryId, List<X509Certificate> chain) {
        return new SvidResult(entryId, chain, Optional.empty());
    }

    public static SvidResult refused(String entryId, String error) {
        return new SvidResult(entryId, List.of(), Optional.of(error));
    }
}
