package dev.bourne.appliance.ca;

/** Small helpers over a manager's records, shared by tests. */
final class X509AuthorityRecordView {
    private X509AuthorityRecordView() {
    }

    /** Prepares the next X.509 authority by hand and returns its ID. */
    static String prepared(CaManager manager) throws CaException {
        return manager.prepareX509().authorityId();
    }
}
