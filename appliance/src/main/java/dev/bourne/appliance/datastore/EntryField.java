package dev.bourne.appliance.datastore;

import java.util.EnumSet;
import java.util.Set;

/**
 * The fields of a {@link RegistrationEntry} an update may change (the update mask). The entry ID, revision number
 * and creation time are kept by the datastore and never written by a caller.
 */
public enum EntryField {
    SPIFFE_ID, PARENT_ID, SELECTORS, X509_SVID_TTL, JWT_SVID_TTL, FEDERATES_WITH, ADMIN, DOWNSTREAM, DNS_NAMES,
    STORE_SVID, HINT;

    /** Every field: an update with this mask replaces the whole entry. */
    public static Set<EntryField> all() {
        return EnumSet.allOf(EntryField.class);
    }
}
