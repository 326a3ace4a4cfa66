package dev.bourne.appliance.datastore;

import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.tpm.server.TpmEnrollment;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The server's persistent state: registration entries, attested nodes, join tokens, federated bundles, each server's
 * CA journal, TPM enrolments and the attestation keys bound to TPM nodes, federation relationships, and a change log
 * of entries and nodes.
 * Domain records in, domain records out; no database type leaks.
 *
 * <p>Every method is atomic: a write that touches several rows commits all of them or none, and appends its change
 * events in the same transaction. Several servers may share one PostgreSQL database. Implementations are thread-safe.
 * Every method throws {@link DataStoreException}: {@link InvalidArgumentException} for bad input (naming the field),
 * {@link NotFoundException}, {@link AlreadyExistsException}, {@link ConflictException},
 * {@link UnavailableException} when the database cannot be reached, {@link DataStoreFailureException} otherwise.
 */
public interface DataStore extends AutoCloseable {

    // Registration entries

    /**
     * Stores a new entry with revision 0, created now, and returns it as stored. An empty {@code id} makes the
     * datastore choose a random one.
     *
     * @throws AlreadyExistsException when the ID is taken, or an entry with the same parent ID, SPIFFE ID and
     *     selector set exists
     */
    RegistrationEntry createEntry(RegistrationEntry entry) throws DataStoreException;

    Optional<RegistrationEntry> getEntry(String id) throws DataStoreException;

    /** The entries matching {@code filter}, ordered by ID. */
    Page<RegistrationEntry> listEntries(EntryFilter filter, PageRequest page) throws DataStoreException;

    long countEntries(EntryFilter filter) throws DataStoreException;

    /**
     * Changes the fields in {@code mask} of the entry with {@code entry.id()} to the values in {@code entry},
     * increments its revision number and returns it as stored. {@link EntryField#all()} replaces the entry.
     *
     * @throws NotFoundException when no entry has that ID
     * @throws AlreadyExistsException when the change would duplicate another entry
     */
    RegistrationEntry updateEntry(RegistrationEntry entry, Set<EntryField> mask) throws DataStoreException;

    /**
     * Like {@link #updateEntry(RegistrationEntry, Set)}, but only if the stored revision is still
     * {@code expectedRevision}.
     *
     * @throws ConflictException when another update came first
     */
    RegistrationEntry updateEntry(RegistrationEntry entry, Set<EntryField> mask, long expectedRevision)
            throws DataStoreException;

    /** Deletes an entry and returns it as it was. */
    RegistrationEntry deleteEntry(String id) throws DataStoreException;

    // Attested nodes

    /** Stores a newly attested node, created now. */
    AttestedNode createNode(AttestedNode node) throws DataStoreException;

    Optional<AttestedNode> getNode(SpiffeId spiffeId) throws DataStoreException;

    /** The nodes matching {@code filter}, ordered by SPIFFE ID. */
    Page<AttestedNode> listNodes(NodeFilter filter, PageRequest page) throws DataStoreException;

    long countNodes(NodeFilter filter) throws DataStoreException;

    /**
     * Records the node's current and pending agent SVIDs (renewal).
     *
     * @throws ConflictException when the node is banned
     */
    AttestedNode updateNodeCertificates(SpiffeId spiffeId, Optional<NodeCertificate> certificate,
            Optional<NodeCertificate> newCertificate) throws DataStoreException;

    /** Replaces the node's selectors (re-attestation). */
    AttestedNode setNodeSelectors(SpiffeId spiffeId, List<Selector> selectors) throws DataStoreException;

    /**
     * Bans a node: marks it banned and forgets its certificates, so it can neither renew nor attest again until an
     * operator deletes it.
     */
    AttestedNode banNode(SpiffeId spiffeId) throws DataStoreException;

    /**
     * Deletes (evicts) a node, with its selectors, and returns it as it was. The agent may then attest again. A node the
     * {@code tpm} attestor attested ({@code /spire/agent/tpm/<ek-hash>}) loses its AK binding in the same transaction:
     * no renewal can follow an eviction without a new attestation, which binds the AK again.
     */
    AttestedNode deleteNode(SpiffeId spiffeId) throws DataStoreException;

    // Join tokens

    /** Stores a join token (only its SHA-256 is kept) valid until {@code expiresAt}. */
    void createJoinToken(String token, Instant expiresAt) throws DataStoreException;

    /**
     * Deletes the token and returns its expiry, atomically: of any number of concurrent callers, on any number of
     * servers, exactly one gets it. Empty when the token does not exist or was already taken. The caller still checks
     * the expiry: an expired token is consumed all the same.
     */
    Optional<Instant> takeJoinToken(String token) throws DataStoreException;

    /** Deletes the tokens that expired before {@code expiredBefore}; returns how many. */
    int pruneJoinTokens(Instant expiredBefore) throws DataStoreException;

    // Bundles

    /** Stores the bundle of its trust domain, replacing any stored before. */
    void setBundle(SpiffeBundle bundle) throws DataStoreException;

    Optional<SpiffeBundle> getBundle(TrustDomain trustDomain) throws DataStoreException;

    /** Every stored bundle, ordered by trust domain. */
    List<SpiffeBundle> listBundles() throws DataStoreException;

    void deleteBundle(TrustDomain trustDomain) throws DataStoreException;

    // CA journal

    Optional<CaJournal> getCaJournal(String serverId) throws DataStoreException;

    /**
     * Writes a server's CA journal if its stored version is still {@code expectedVersion} (0: none stored yet) and
     * returns the new version, {@code expectedVersion + 1}.
     *
     * @throws ConflictException when the stored version differs (another writer came first)
     */
    long putCaJournal(String serverId, long expectedVersion, byte[] data) throws DataStoreException;

    // TPM enrolments

    /**
     * Stores a security team's enrolment of one TPM, created now and not revoked (the record's {@code createdAt} and
     * {@code revokedAt} are ignored), and returns it as stored. Labels ({@link Limits#isTpmLabelKey},
     * {@link Limits#isTpmLabelValue}, at most {@link Limits#MAX_TPM_LABELS}), the PCR policy name and the certificate
     * PEM are checked here too.
     *
     * @throws AlreadyExistsException when an enrolment for the EK hash exists, revoked or not: a revoked TPM stays
     *     revoked
     */
    TpmEnrollment createTpmEnrollment(TpmEnrollment enrollment) throws DataStoreException;

    /** The enrolment of this EK hash (any case of hex digits), revoked or not. */
    Optional<TpmEnrollment> getTpmEnrollment(String ekHash) throws DataStoreException;

    /**
     * Enrolments ordered by EK hash.
     *
     * @param revoked only revoked ({@code true}) or only unrevoked ({@code false}) enrolments; empty for all
     */
    Page<TpmEnrollment> listTpmEnrollments(Optional<Boolean> revoked, PageRequest page) throws DataStoreException;

    /**
     * Revokes an enrolment and returns it as stored: the TPM's next attestation or renewal is refused. Revoking a
     * revoked enrolment changes nothing (the first revocation time stays).
     *
     * @throws NotFoundException when no enrolment has that EK hash
     */
    TpmEnrollment revokeTpmEnrollment(String ekHash) throws DataStoreException;

    // TPM attestation keys (continuous attestation)

    /**
     * Binds (or rebinds) a TPM node's attestation key to its EK hash and returns the binding as stored: a first
     * binding is bound and updated now; a replaced one keeps its {@code boundAt}.
     */
    TpmAkBinding setTpmAkBinding(String ekHash, byte[] akPublic, byte[] akName) throws DataStoreException;

    Optional<TpmAkBinding> getTpmAkBinding(String ekHash) throws DataStoreException;

    /** Deletes the binding of this EK hash and returns it as it was; empty when there was none. */
    Optional<TpmAkBinding> deleteTpmAkBinding(String ekHash) throws DataStoreException;

    // OpenStack instance identity documents

    /**
     * Records the single-use ID {@code jti} of a document from {@code issuer}, valid until {@code expiresAt}, and says
     * whether this was its first use: true once, false for every later call with the same issuer and jti (a replay),
     * whichever server of those sharing the database makes it. Records are kept 15 minutes past their expiry (longer than any
     * clock skew an attestor tolerates), then deleted along the way.
     */
    boolean consumeIidJti(String issuer, String jti, Instant expiresAt) throws DataStoreException;

    // Federation relationships

    /**
     * Stores a new federation relationship, created and updated now with no fetch state, and returns it as stored.
     * When {@code bootstrapBundle} is given and no bundle of the relationship's trust domain is stored yet, it is
     * stored as that domain's federated bundle in the same transaction (a stored bundle is never replaced by it).
     *
     * @throws AlreadyExistsException when a relationship with that trust domain exists
     * @throws InvalidArgumentException when the bootstrap bundle belongs to another trust domain or is too large
     */
    FederationRelationship createFederationRelationship(FederationRelationship relationship,
            Optional<SpiffeBundle> bootstrapBundle) throws DataStoreException;

    Optional<FederationRelationship> getFederationRelationship(TrustDomain trustDomain) throws DataStoreException;

    /** The relationships, ordered by trust domain. */
    Page<FederationRelationship> listFederationRelationships(PageRequest page) throws DataStoreException;

    /**
     * Replaces the bundle endpoint URL and profile of the relationship with {@code relationship.trustDomain()},
     * updated now, and returns it as stored; its creation time and fetch state stay.
     *
     * @throws NotFoundException when no relationship has that trust domain
     */
    FederationRelationship updateFederationRelationship(FederationRelationship relationship)
            throws DataStoreException;

    /**
     * Deletes a relationship and returns it as it was. The trust domain's federated bundle stays (delete it with
     * {@link #deleteBundle}): entries that federate with the domain keep working until the operator decides.
     *
     * @throws NotFoundException when no relationship has that trust domain
     */
    FederationRelationship deleteFederationRelationship(TrustDomain trustDomain) throws DataStoreException;

    /**
     * Records the federation client's state for a relationship.
     *
     * @throws NotFoundException when the relationship was deleted meanwhile
     */
    void setBundleFetchState(TrustDomain trustDomain, BundleFetchState state) throws DataStoreException;

    /**
     * Stores {@code next} as its trust domain's bundle only if the stored bundle still equals {@code expected}
     * (empty: none is stored), and says whether it did. The federation client reads, decides by sequence number,
     * then writes with this, so that of several servers sharing the database none replaces a bundle another stored
     * meanwhile.
     */
    boolean compareAndSetBundle(Optional<SpiffeBundle> expected, SpiffeBundle next) throws DataStoreException;

    // Change log

    /** Up to {@code limit} events with an ID greater than {@code afterId}, in ID order. */
    List<ChangeEvent> listEvents(long afterId, int limit) throws DataStoreException;

    /** The greatest stored event ID, or 0 when none is stored; a consumer starting from a full load resumes after it. */
    long lastEventId() throws DataStoreException;

    /** Deletes events created before {@code createdBefore}; returns how many. */
    int pruneEvents(Instant createdBefore) throws DataStoreException;

    /** Releases the connections; the datastore cannot be used afterwards. */
    @Override
    void close();
}
