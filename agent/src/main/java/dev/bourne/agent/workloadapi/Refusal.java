package dev.bourne.agent.workloadapi;

/**
 * Why the Workload API refuses a call; each kind has exactly one status code from the SPIFFE Workload API spec
 * (mapped once, in {@link WorkloadApiService}).
 */
enum Refusal {
    /** Malformed request: missing audience or token, a token that does not validate. INVALID_ARGUMENT. */
    BAD_REQUEST,
    /** The caller was attested but no entry matches it, or it asked for an ID it does not have. PERMISSION_DENIED. */
    NO_IDENTITY,
    /** The agent has no bundle yet. UNAVAILABLE. */
    NOT_READY,
    /** The caller's facts could not be established (process gone, pid reused, /proc unreadable). UNAVAILABLE. */
    ATTESTATION_FAILED,
    /** A JWT-SVID could not be obtained now. UNAVAILABLE. */
    MINT_FAILED
}
