package dev.bourne.appliance.datastore;

import java.time.Instant;
import java.util.Objects;

/**
 * The agent SVID a node holds, as the server remembers it to recognise the node on renewal.
 *
 * @param serialNumber the certificate's serial number in decimal
 * @param notAfter the certificate's expiry, to the second
 */
public record NodeCertificate(String serialNumber, Instant notAfter) {

    public NodeCertificate {
        Objects.requireNonNull(serialNumber, "serialNumber");
        Objects.requireNonNull(notAfter, "notAfter");
    }
}
