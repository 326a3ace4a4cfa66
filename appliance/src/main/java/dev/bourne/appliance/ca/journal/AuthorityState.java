package dev.bourne.appliance.ca.journal;

/**
 * Where a local authority (X.509 CA or JWT signing key) is in its life, as SPIRE's local authorities: prepared
 * (published, not yet signing), active (signing), old (replaced, still published until it expires). {@link #RETIRED}
 * is an old authority whose slot was reused by a newer prepared one: its key is gone, its public part stays in the
 * bundle until it expires or is revoked.
 */
public enum AuthorityState {
    PREPARED("prepared"),
    ACTIVE("active"),
    OLD("old"),
    RETIRED("retired");

    private final String journalName;

    AuthorityState(String journalName) {
        this.journalName = journalName;
    }

    /** The name written in the journal and shown to operators. */
    public String journalName() {
        return journalName;
    }

    /** Whether an authority in this state holds its slot's key. */
    public boolean holdsSlot() {
        return this != RETIRED;
    }

    static AuthorityState fromJournalName(String name) {
        for (AuthorityState state : values()) {
            if (state.journalName.equals(name)) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown authority state " + dev.bourne.core.internal.Texts.quote(name));
    }
}
