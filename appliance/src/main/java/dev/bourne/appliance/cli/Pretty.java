package dev.bourne.appliance.cli;

import dev.bourne.api.v1.AttestedAgent;
import dev.bourne.api.v1.Enrollment;
import dev.bourne.api.v1.RegistrationEntry;
import dev.bourne.api.v1.Selector;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.TreeMap;

/** SPIRE's human-readable layouts: one {@code Label : value} line per field, padded to a common column. */
final class Pretty {
    private Pretty() {
    }

    static void line(PrintWriter out, String label, Object value) {
        out.printf("%-17s: %s%n", label, value);
    }

    static void entry(PrintWriter out, RegistrationEntry e) {
        line(out, "Entry ID", e.getId());
        line(out, "SPIFFE ID", e.getSpiffeId());
        line(out, "Parent ID", e.getParentId());
        line(out, "Revision", e.getRevisionNumber());
        if (e.getDownstream()) {
            line(out, "Downstream", true);
        }
        line(out, "X509-SVID TTL", e.getX509SvidTtl() == 0 ? "default" : e.getX509SvidTtl());
        line(out, "JWT-SVID TTL", e.getJwtSvidTtl() == 0 ? "default" : e.getJwtSvidTtl());
        for (Selector s : e.getSelectorsList()) {
            line(out, "Selector", s.getType() + ":" + s.getValue());
        }
        for (String td : e.getFederatesWithList()) {
            line(out, "FederatesWith", td);
        }
        for (String dns : e.getDnsNamesList()) {
            line(out, "DNS name", dns);
        }
        if (e.getAdmin()) {
            line(out, "Admin", true);
        }
        if (e.getStoreSvid()) {
            line(out, "StoreSvid", true);
        }
        if (!e.getHint().isEmpty()) {
            line(out, "Hint", e.getHint());
        }
        out.println();
    }

    static void agent(PrintWriter out, AttestedAgent a) {
        line(out, "SPIFFE ID", a.getId());
        line(out, "Attestation type", a.getAttestationType());
        line(out, "Expiration time", a.getX509SvidExpiresAt() == 0 ? "-" : time(a.getX509SvidExpiresAt()));
        line(out, "Serial number", a.getX509SvidSerialNumber().isEmpty() ? "-" : a.getX509SvidSerialNumber());
        line(out, "Can re-attest", a.getCanReattest());
        if (a.getBanned()) {
            line(out, "Banned", true);
        }
        for (Selector s : a.getSelectorsList()) {
            line(out, "Selector", s.getType() + ":" + s.getValue());
        }
        out.println();
    }

    static void enrollment(PrintWriter out, Enrollment e, boolean withCertificate) {
        line(out, "EK hash", e.getEkHash());
        line(out, "Created at", time(e.getCreatedAt()));
        if (e.getRevoked()) {
            line(out, "Revoked at", time(e.getRevokedAt()));
        }
        if (!e.getPcrPolicy().isEmpty()) {
            line(out, "PCR policy", e.getPcrPolicy());
        }
        new TreeMap<>(e.getLabelsMap()).forEach((key, value) -> line(out, "Label", key + "=" + value));
        line(out, "EK certificate", e.getEkCertificatePem().isEmpty() ? "-" : "stored");
        if (withCertificate && !e.getEkCertificatePem().isEmpty()) {
            out.print(e.getEkCertificatePem());
        }
        out.println();
    }

    static String time(long epochSeconds) {
        return Instant.ofEpochSecond(epochSeconds).toString();
    }
}
