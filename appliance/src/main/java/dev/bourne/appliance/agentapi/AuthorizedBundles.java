package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which federated bundles an agent may hold, in one place: the bundles of the trust domains that the entries it is
 * authorised for ({@link AuthorizedEntries}) name in {@code federates_with}, and no others. An agent never learns a
 * peer's bundle that none of its entries needs, so a compromised agent cannot enumerate the server's federation.
 *
 * <p>Bundles change rarely, so each goes to an agent with a digest of its canonical form; the agent sends the digests
 * it holds back on every sync and receives a bundle again only when its digest differs. A digest (rather than the
 * bundle's {@code spiffe_sequence}) because an operator's {@code bundle set} may change a bundle without changing its
 * sequence, and a bundle need not carry one at all.
 */
public final class AuthorizedBundles {
    /** Most federated bundles an agent may say it holds in one sync. */
    public static final int MAX_KNOWN_BUNDLES = 10_000;
    /** Size of a bundle digest (SHA-256). */
    public static final int DIGEST_BYTES = 32;

    public static final String KNOWN_BUNDLES_TOO_LARGE = "more than " + MAX_KNOWN_BUNDLES
            + " known federated bundles";
    public static final String KNOWN_BUNDLE_BAD_TRUST_DOMAIN =
            "known_federated_bundles names something that is not a trust domain";
    public static final String KNOWN_BUNDLE_BAD_DIGEST =
            "known_federated_bundles holds a digest that is not " + DIGEST_BYTES + " bytes";

    /** Separates this digest from any other SHA-256 use, and versions the canonical form. */
    private static final String DIGEST_LABEL = "bourne federated bundle v1";

    private final DataStore dataStore;
    private final TrustDomain trustDomain;

    /**
     * @param dataStore where federated bundles are stored
     * @param trustDomain the server's own trust domain: never sent as a federated bundle
     */
    public AuthorizedBundles(DataStore dataStore, TrustDomain trustDomain) {
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
    }

    /**
     * A federated bundle as sent to an agent.
     *
     * @param bundle the stored bundle
     * @param digest {@link #digest(SpiffeBundle)} of it, lowercase hex
     */
    public record Versioned(SpiffeBundle bundle, String digest) {
        public Versioned {
            Objects.requireNonNull(bundle, "bundle");
            Objects.requireNonNull(digest, "digest");
        }
    }

    /**
     * What an agent must change in the federated bundles it holds.
     *
     * @param changed bundles new to the agent or changed, by trust domain name
     * @param removed trust domains whose bundles the agent holds and must drop, by name
     */
    public record Changes(List<Versioned> changed, List<TrustDomain> removed) {
        public Changes {
            changed = List.copyOf(changed);
            removed = List.copyOf(removed);
        }
    }

    /** The trust domains {@code entries} federate with, other than the server's own, in name order. */
    public SortedSet<TrustDomain> neededBy(Collection<RegistrationEntry> entries) {
        SortedSet<TrustDomain> needed = new TreeSet<>();
        for (RegistrationEntry entry : entries) {
            needed.addAll(entry.federatesWith());
        }
        needed.remove(trustDomain);
        return needed;
    }

    /** The stored bundles of the domains {@code entries} federate with, in name order; domains without one skipped. */
    public List<Versioned> forEntries(Collection<RegistrationEntry> entries) throws DataStoreException {
        List<Versioned> bundles = new ArrayList<>();
        for (TrustDomain td : neededBy(entries)) {
            Optional<SpiffeBundle> bundle = dataStore.getBundle(td);
            if (bundle.isPresent()) {
                bundles.add(new Versioned(bundle.get(), digest(bundle.get())));
            }
        }
        return bundles;
    }

    /**
     * Compares the bundles an agent holds with those its authorised entries need now.
     *
     * @param authorized the entries the agent is authorised for
     * @param known the digest of each federated bundle the agent holds, by trust domain
     */
    public Changes changes(Collection<RegistrationEntry> authorized, Map<TrustDomain, String> known)
            throws DataStoreException {
        Map<TrustDomain, Versioned> current = new TreeMap<>();
        for (Versioned bundle : forEntries(authorized)) {
            current.put(bundle.bundle().trustDomain(), bundle);
        }
        List<Versioned> changed = new ArrayList<>();
        for (Versioned bundle : current.values()) {
            if (!bundle.digest().equals(known.get(bundle.bundle().trustDomain()))) {
                changed.add(bundle);
            }
        }
        List<TrustDomain> removed = new ArrayList<>();
        for (TrustDomain td : new TreeSet<>(known.keySet())) {
            if (!current.containsKey(td)) {
                removed.add(td);
            }
        }
        return new Changes(changed, removed);
    }

    /**
     * SHA-256 over the bundle's canonical form (trust domain, sequence, refresh hint, X.509 authorities in DER, JWT
     * authorities by key ID with their SubjectPublicKeyInfo, each length-prefixed), lowercase hex. Deterministic
     * across servers sharing a datastore, so an agent moving between them is not sent its bundles again.
     */
    public static String digest(SpiffeBundle bundle) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            field(out, DIGEST_LABEL.getBytes(StandardCharsets.UTF_8));
            field(out, bundle.trustDomain().name().getBytes(StandardCharsets.UTF_8));
            out.writeLong(bundle.sequence().isPresent() ? bundle.sequence().getAsLong() : -1);
            out.writeLong(bundle.refreshHint().map(h -> h.getSeconds()).orElse(-1L));
            out.writeInt(bundle.x509Authorities().size());
            for (X509Certificate authority : bundle.x509Authorities()) {
                field(out, authority.getEncoded());
            }
            out.writeInt(bundle.jwtAuthorities().size());
            for (Map.Entry<String, PublicKey> key : new TreeMap<>(bundle.jwtAuthorities()).entrySet()) {
                field(out, key.getKey().getBytes(StandardCharsets.UTF_8));
                field(out, key.getValue().getEncoded());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (CertificateEncodingException e) {
            // The certificates were parsed from DER when the bundle was stored: failing here is a bug.
            throw new IllegalStateException("a federated bundle certificate cannot be encoded", e);
        }
        return HexFormat.of().formatHex(sha256.digest(bytes.toByteArray()));
    }

    private static void field(DataOutputStream out, byte[] value) throws IOException {
        out.writeInt(value.length);
        out.write(value);
    }
}
