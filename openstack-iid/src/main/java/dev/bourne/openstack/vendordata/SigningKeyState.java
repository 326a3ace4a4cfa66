package dev.bourne.openstack.vendordata;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the signing service's two key slots stand: which slot signs and since when, and what the other slot holds.
 * This is what the journal records ({@link SigningKeyJournal}) and what {@link IidSigningKeys#state()} reports.
 *
 * @param activeSlot the slot whose key signs documents
 * @param activeKid the JWK thumbprint of that key
 * @param activeSince when it started signing: the next key is prepared half a key lifetime later, and takes over
 *        one key lifetime later
 * @param standby the other slot
 */
public record SigningKeyState(KeySlot activeSlot, String activeKid, Instant activeSince, Standby standby) {

    public SigningKeyState {
        Objects.requireNonNull(activeSlot, "activeSlot");
        Objects.requireNonNull(activeKid, "activeKid");
        Objects.requireNonNull(activeSince, "activeSince");
        Objects.requireNonNull(standby, "standby");
    }

    /** The slot that does not sign. */
    public KeySlot standbySlot() {
        return activeSlot.other();
    }

    SigningKeyState withStandby(Standby next) {
        return new SigningKeyState(activeSlot, activeKid, activeSince, next);
    }

    /** What the slot that does not sign holds. */
    public enum Phase {
        /** Nothing published: the key left there (if any) signed documents that have all expired. */
        EMPTY("empty"),
        /** The next key: published in the JWK set, signing once the active key's lifetime ends. */
        PREPARED("prepared"),
        /** The previous key: signs nothing, published until the documents it signed have expired. */
        RETIRED("retired");

        private final String journalName;

        Phase(String journalName) {
            this.journalName = journalName;
        }

        public String journalName() {
            return journalName;
        }

        static Phase fromJournalName(String name) {
            for (Phase phase : values()) {
                if (phase.journalName.equals(name)) {
                    return phase;
                }
            }
            throw new IllegalArgumentException("unknown standby state \"" + name + "\"");
        }
    }

    /**
     * The slot that does not sign.
     *
     * @param phase what it holds
     * @param kid the JWK thumbprint of its key, when {@link Phase#PREPARED} or {@link Phase#RETIRED}
     * @param since when the key was prepared, or when it was retired
     * @param until for a retired key: when it leaves the JWK set (its retirement plus the document lifetime and a
     *        minute for clock skew)
     */
    public record Standby(Phase phase, Optional<String> kid, Optional<Instant> since, Optional<Instant> until) {
        public Standby {
            Objects.requireNonNull(phase, "phase");
            Objects.requireNonNull(kid, "kid");
            Objects.requireNonNull(since, "since");
            Objects.requireNonNull(until, "until");
            boolean holdsKey = phase != Phase.EMPTY;
            if (kid.isPresent() != holdsKey || since.isPresent() != holdsKey
                    || until.isPresent() != (phase == Phase.RETIRED)) {
                throw new IllegalArgumentException("an empty standby slot has no kid or times, a prepared one a kid "
                        + "and since, a retired one a kid, since and until");
            }
            if (phase == Phase.RETIRED && until.get().isBefore(since.get())) {
                throw new IllegalArgumentException("a retired key leaves the JWK set after its retirement");
            }
        }

        public static Standby empty() {
            return new Standby(Phase.EMPTY, Optional.empty(), Optional.empty(), Optional.empty());
        }

        public static Standby prepared(String kid, Instant since) {
            return new Standby(Phase.PREPARED, Optional.of(kid), Optional.of(since), Optional.empty());
        }

        public static Standby retired(String kid, Instant retiredAt, Instant until) {
            return new Standby(Phase.RETIRED, Optional.of(kid), Optional.of(retiredAt), Optional.of(until));
        }
    }
}
